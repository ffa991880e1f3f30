// Timelines of a history, one lane per client process, for failure reports:
// plain text for terminals and CI logs, and a self-contained HTML page.
import { describeOperation, formatTime, type CheckResult } from './checker.js';
import type { Operation } from './history.js';
import type { Model } from './models.js';

export interface TimelineOptions<State, Input, Output> {
  /** Used to describe operations; JSON otherwise. */
  readonly model?: Model<State, Input, Output>;
  /** Operation ids to mark (e.g. explanation.unorderable). */
  readonly highlight?: Iterable<number>;
  /** Columns for the time axis (text). Default 80. */
  readonly width?: number;
  /** Show at most this many operations, those nearest the highlighted ones. Default 40. */
  readonly maxOperations?: number;
}

interface Prepared<Input, Output> {
  readonly ops: Operation<Input, Output>[];
  readonly lanes: (number | string)[];
  readonly start: number;
  readonly end: number;
  readonly marked: Set<number>;
}

function prepare<State, Input, Output>(
  history: readonly Operation<Input, Output>[],
  options: TimelineOptions<State, Input, Output>,
): Prepared<Input, Output> {
  const marked = new Set(options.highlight ?? []);
  const max = options.maxOperations ?? 40;
  let ops = [...history];
  if (ops.length > max) {
    // Keep the operations closest in time to the marked ones (or the first ones).
    const focus = ops.filter((op) => marked.has(op.id));
    const center = focus.length > 0 ? Math.min(...focus.map((op) => op.invokedAt)) : ops[0]!.invokedAt;
    const distance = (op: Operation<Input, Output>): number =>
      marked.has(op.id) ? -1 : op.invokedAt <= center && op.returnedAt >= center ? 0 : Math.min(Math.abs(op.invokedAt - center), Math.abs(op.returnedAt - center));
    ops = ops
      .map((op) => ({ op, d: distance(op) }))
      .sort((a, b) => a.d - b.d || a.op.id - b.op.id)
      .slice(0, max)
      .map((x) => x.op);
  }
  ops.sort((a, b) => a.invokedAt - b.invokedAt || a.id - b.id);
  const lanes: (number | string)[] = [];
  for (const op of ops) if (!lanes.includes(op.process)) lanes.push(op.process);
  const start = ops.length > 0 ? Math.min(...ops.map((op) => op.invokedAt)) : 0;
  const finite = ops.flatMap((op) => (Number.isFinite(op.returnedAt) ? [op.returnedAt] : [op.invokedAt]));
  const end = Math.max(start + 1e-9, ...finite);
  return { ops, lanes, start, end, marked };
}

function label<State, Input, Output>(op: Operation<Input, Output>, model: Model<State, Input, Output> | undefined): string {
  if (model) return describeOperation(model, op);
  const out = op.status === 'ok' ? JSON.stringify(op.output) : op.status === 'info' ? '? (info)' : '(fail)';
  return `${JSON.stringify(op.input)} → ${out}`;
}

/**
 * A text timeline: each lane is a process, each operation a bar from invocation to
 * return (`…` when indeterminate), marked operations drawn with `#`. A legend follows.
 */
export function renderTimeline<State, Input, Output>(
  history: readonly Operation<Input, Output>[],
  options: TimelineOptions<State, Input, Output> = {},
): string {
  const width = options.width ?? 80;
  if (!(Number.isInteger(width) && width >= 20)) throw new RangeError(`renderTimeline: width must be an integer >= 20, got ${width}`);
  const { ops, lanes, start, end, marked } = prepare(history, options);
  if (ops.length === 0) return '(empty history)';
  const column = (t: number): number => Math.min(width - 1, Math.max(0, Math.round(((t - start) / (end - start)) * (width - 1))));
  const laneName = (p: number | string): string => `p${String(p)}`;
  const pad = Math.max(...lanes.map((p) => laneName(p).length)) + 1;
  const rows = new Map(lanes.map((p) => [p, Array.from({ length: width }, () => ' ')]));
  for (const op of ops) {
    const row = rows.get(op.process)!;
    const a = column(op.invokedAt);
    const b = Number.isFinite(op.returnedAt) ? Math.max(a, column(op.returnedAt)) : width - 1;
    const fill = marked.has(op.id) ? '#' : op.status === 'fail' ? '.' : '-';
    for (let c = a; c <= b; c++) row[c] = fill;
    row[a] = '[';
    if (Number.isFinite(op.returnedAt)) row[b] = b === a ? '|' : ']';
    else row[b] = '…';
    const tag = String(op.id);
    if (b - a - 1 >= tag.length) for (let k = 0; k < tag.length; k++) row[a + 1 + k] = tag[k]!;
  }
  const from = `t=${formatTime(start)}`;
  const to = `t=${formatTime(end)}`;
  const lines = [`${' '.repeat(pad)}${from}${' '.repeat(Math.max(1, width - from.length - to.length))}${to}`];
  for (const p of lanes) lines.push(`${laneName(p).padEnd(pad)}${rows.get(p)!.join('')}`);
  lines.push('');
  for (const op of ops) {
    const range = `[${formatTime(op.invokedAt)}, ${formatTime(op.returnedAt)}]`;
    lines.push(`${marked.has(op.id) ? '#' : ' '} #${op.id} ${laneName(op.process)} ${op.status.padEnd(4)} ${label(op, options.model)} ${range}`);
  }
  if (history.length > ops.length) lines.push(`  (${history.length - ops.length} more operations not shown)`);
  return lines.join('\n');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A self-contained HTML page with the same timeline (hover an operation for details). */
export function renderTimelineHtml<State, Input, Output>(
  history: readonly Operation<Input, Output>[],
  options: TimelineOptions<State, Input, Output> & { readonly title?: string } = {},
): string {
  const { ops, lanes, start, end, marked } = prepare(history, { maxOperations: 500, ...options });
  const percent = (t: number): number => ((t - start) / (end - start)) * 100;
  const laneIndex = new Map(lanes.map((p, i) => [p, i]));
  const bars = ops
    .map((op) => {
      const left = percent(op.invokedAt);
      const right = Number.isFinite(op.returnedAt) ? percent(op.returnedAt) : 100;
      const cls = marked.has(op.id) ? 'op bad' : `op ${op.status}`;
      const text = `#${op.id} ${label(op, options.model)}`;
      const title = `${text} [${formatTime(op.invokedAt)}, ${formatTime(op.returnedAt)}]`;
      return `<div class="${cls}" style="top:${laneIndex.get(op.process)! * 34 + 4}px;left:${left.toFixed(3)}%;width:${Math.max(0.3, right - left).toFixed(3)}%" title="${escapeHtml(title)}">${escapeHtml(text)}</div>`;
    })
    .join('\n');
  const names = lanes.map((p, i) => `<div class="lane" style="top:${i * 34 + 4}px">p${escapeHtml(String(p))}</div>`).join('\n');
  const title = escapeHtml(options.title ?? 'history timeline');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title>
<style>
body{font:13px system-ui,sans-serif;margin:16px}
.wrap{position:relative;margin-left:70px;height:${lanes.length * 34 + 8}px;border-left:1px solid #999}
.lane{position:absolute;left:-66px;width:60px;text-align:right;color:#555;line-height:26px}
.op{position:absolute;height:26px;line-height:26px;overflow:hidden;white-space:nowrap;font-size:11px;padding:0 3px;box-sizing:border-box;border-radius:3px}
.ok{background:#cde6ff;border:1px solid #4a90d9}.info{background:#fff3c4;border:1px dashed #c9a400}.fail{background:#eee;border:1px dotted #999}
.bad{background:#ffc9c9;border:2px solid #d00}
</style></head><body>
<h3>${title}</h3><p>time ${formatTime(start)} – ${formatTime(end)}; red: operations that cannot be ordered</p>
<div class="wrap">
${names}
${bars}
</div></body></html>
`;
}

/** A failure report: the checker's explanation followed by a text timeline around it. */
export function formatCheckResult<State, Input, Output>(
  result: CheckResult<State, Input, Output>,
  history: readonly Operation<Input, Output>[],
  model?: Model<State, Input, Output>,
): string {
  if (result.verdict === 'ok') return `linearizable (${result.operations} operations, ${result.partitions.length} partitions)`;
  if (result.verdict === 'unknown') return `unknown: gave up (${result.reason ?? 'budget'}) after ${result.elapsedMs.toFixed(0)} ms`;
  const explanation = result.explanation;
  if (!explanation) return 'not linearizable';
  const highlight = explanation.unorderable.map((op) => op.id);
  const partitionOps =
    explanation.partition === undefined || !model?.partitionKey
      ? history
      : history.filter((op) => model.partitionKey!(op.input) === explanation.partition);
  const options: TimelineOptions<State, Input, Output> = model ? { model, highlight } : { highlight };
  return `${explanation.message}\n\n${renderTimeline(partitionOps, options)}`;
}
