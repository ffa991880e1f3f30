// @bulwark/testkit: deterministic simulation and linearizability checking.

// Randomness and time
export { Random } from './prng.js';
export type { Seed } from './prng.js';
export { constant, uniform, exponential, sample } from './distribution.js';
export type { Distribution } from './distribution.js';
export { realClock, hostMonotonicClock } from './real-clock.js';
export type { Clock } from './real-clock.js';

// Simulator
export { Simulation, simulate, describeValue } from './simulation.js';
export type {
  NodeContext,
  SimNode,
  NodeSpec,
  Workload,
  ClientReply,
  SimulationOptions,
  SimulateOptions,
  SimulationResult,
  SimulationStats,
  RunLimits,
  TimerId,
} from './simulation.js';
export type { LinkOptions, NetworkOptions } from './network.js';
export { SimulatedDisk, CRASH_MODES } from './storage.js';
export type { SimStorage, StorageData, CrashMode, CrashReport } from './storage.js';
export { randomNemesis, describeAction, FAULT_KINDS } from './nemesis.js';
export type {
  Nemesis,
  NemesisAction,
  NemesisContext,
  NemesisGenerator,
  ScheduledNemesisAction,
  RandomNemesisOptions,
  FaultKind,
} from './nemesis.js';

// Histories and checking
export { HistoryRecorder, historyFromEvents } from './history.js';
export type { Operation, OperationStatus, HistoryEvent, PendingOperation } from './history.js';
export { registerModel, kvModel, setModel, appendLogModel } from './models.js';
export type { Model, Value, RegisterInput, RegisterOutput, KvInput, KvOutput, SetInput, SetOutput, LogInput, LogOutput } from './models.js';
export { checkLinearizability, describeOperation } from './checker.js';
export type { CheckOptions, CheckResult, PartitionResult, Explanation, LinearizedStep, Verdict } from './checker.js';
export { renderTimeline, renderTimelineHtml, formatCheckResult } from './render.js';
export type { TimelineOptions } from './render.js';

// Seeds
export { seedsFromEnv, replayCommand, forEachSeed, linearizabilityFailure, SeedFailureError, isSeedFailureError } from './seeds.js';
export type { SimSeed, SeedsFromEnvOptions, ForEachSeedOptions } from './seeds.js';

// Demonstration targets
export { createSingleNodeRegister, createBrokenReplicatedRegister, registerWorkload } from './examples/replicated-register.js';
export type { RegisterMessage, SingleNodeRegisterOptions, RegisterWorkloadOptions } from './examples/replicated-register.js';
export { generateKvHistory } from './generate.js';
export type { KvHistoryOptions } from './generate.js';
