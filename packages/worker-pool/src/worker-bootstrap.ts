// The code every pool thread runs. It ships as a string and starts with
// `new Worker(source, { eval: true })`, so the same code path works from the
// TypeScript sources (vitest, tsx) and from the built dist: there is no second
// file whose location would have to be resolved at run time.
//
// Protocol (flat arrays, one postMessage per batch):
//   main -> worker: [slot, task, slot, task, ...]
//   worker -> main: [slot, status, value, runMs, ...]  or a control object {type}
// `state` is an Int32Array over a SharedArrayBuffer with one cell per slot:
// the worker moves QUEUED -> RUNNING with compareExchange before it starts a
// task (and RUNNING -> DONE when it settles), and the main thread moves
// QUEUED -> CANCELLED to cancel a task that was handed over but not started —
// whoever wins the exchange decides.

export const slotState = { free: 0, queued: 1, running: 2, cancelled: 3, done: 4 } as const;
export const resultStatus = { ok: 0, error: 1, skipped: 2, notCloneable: 3 } as const;

/** Sync tasks are batched until this many ms have passed, then results are flushed. */
const FLUSH_AFTER_MS = 1;

export const workerBootstrapSource = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { url, exportName, explicitName, concurrency, state } = workerData;
const QUEUED = ${slotState.queued}, RUNNING = ${slotState.running}, DONE = ${slotState.done};
const OK = ${resultStatus.ok}, ERROR = ${resultStatus.error}, SKIPPED = ${resultStatus.skipped}, NOT_CLONEABLE = ${resultStatus.notCloneable};
let handler;
let pending = [];
let pendingHead = 0;
let active = 0;
let out = [];
let flushScheduled = false;
let lastNow = 0;

function flush() {
  flushScheduled = false;
  if (out.length === 0) return;
  const batch = out;
  out = [];
  try {
    parentPort.postMessage(batch);
  } catch {
    for (let i = 0; i < batch.length; i += 4) {
      const status = batch[i + 1];
      try {
        parentPort.postMessage([batch[i], status, batch[i + 2], batch[i + 3]]);
      } catch (error) {
        if (status === ERROR) {
          const thrown = batch[i + 2];
          const message = thrown !== null && typeof thrown === 'object' && typeof thrown.message === 'string' ? thrown.message : String(thrown);
          parentPort.postMessage([batch[i], ERROR, new Error(message), batch[i + 3]]);
        } else {
          parentPort.postMessage([batch[i], NOT_CLONEABLE, String(error && error.message), batch[i + 3]]);
        }
      }
    }
  }
}

function push(slot, status, value, runMs) {
  // DONE lets the main thread cancel a finished task whose result is still in flight without ending the thread.
  if (status !== SKIPPED) Atomics.store(state, slot, DONE);
  out.push(slot, status, value, runMs);
  if (!flushScheduled) {
    flushScheduled = true;
    queueMicrotask(flush);
  }
}

function runOne(slot, task) {
  if (Atomics.compareExchange(state, slot, QUEUED, RUNNING) !== QUEUED) {
    push(slot, SKIPPED, undefined, 0);
    return;
  }
  const started = performance.now();
  let result;
  try {
    result = handler(task);
  } catch (error) {
    lastNow = performance.now();
    push(slot, ERROR, error, lastNow - started);
    return;
  }
  if (result !== null && (typeof result === 'object' || typeof result === 'function') && typeof result.then === 'function') {
    active++;
    Promise.resolve(result).then(
      (value) => { active--; push(slot, OK, value, performance.now() - started); pump(); },
      (error) => { active--; push(slot, ERROR, error, performance.now() - started); pump(); },
    );
    lastNow = performance.now();
  } else {
    lastNow = performance.now();
    push(slot, OK, result, lastNow - started);
  }
}

function pump() {
  const loopStart = performance.now();
  while (active < concurrency && pendingHead < pending.length) {
    const slot = pending[pendingHead];
    const task = pending[pendingHead + 1];
    pending[pendingHead + 1] = undefined;
    pendingHead += 2;
    runOne(slot, task);
    if (lastNow - loopStart > ${FLUSH_AFTER_MS} && out.length > 0) flush();
  }
  if (pendingHead >= pending.length) {
    pending = [];
    pendingHead = 0;
  }
}

function onMessage(batch) {
  if (pendingHead >= pending.length) {
    pending = batch;
    pendingHead = 0;
  } else {
    for (let i = 0; i < batch.length; i++) pending.push(batch[i]);
  }
  pump();
}

import(url).then(
  (mod) => {
    let fn = mod[exportName];
    if (typeof fn !== 'function' && !explicitName && typeof mod.default === 'function') fn = mod.default;
    if (typeof fn !== 'function') {
      parentPort.postMessage({ type: 'load-error', message: 'the module does not export a function named "' + exportName + '"' });
      return;
    }
    handler = fn;
    parentPort.on('message', onMessage);
    parentPort.postMessage({ type: 'ready' });
  },
  (error) => {
    parentPort.postMessage({ type: 'load-error', message: String((error && error.message) || error) });
  },
);
`;
