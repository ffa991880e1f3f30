export { defineSuite, concurrentCallers, keepLatencies, latencyReport, runTask, median, quantile, formatNs, formatRate, caseLabel } from './harness.js';
export type { BenchCase, BenchTask, BenchReport, BenchSuite, CaseResult, TaskResult, SuiteResult } from './harness.js';
