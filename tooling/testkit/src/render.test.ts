import { describe, expect, it } from 'vitest';
import { checkLinearizability } from './checker.js';
import type { Operation } from './history.js';
import { registerModel, type RegisterInput, type RegisterOutput } from './models.js';
import { formatCheckResult, renderTimeline, renderTimelineHtml } from './render.js';

const history: Operation<RegisterInput, RegisterOutput>[] = [
  { id: 0, process: 0, input: { type: 'write', value: 1 }, output: null, status: 'ok', invokedAt: 0, returnedAt: 10 },
  { id: 1, process: 1, input: { type: 'read' }, output: null, status: 'ok', invokedAt: 20, returnedAt: 30 },
  { id: 2, process: 2, input: { type: 'write', value: 2 }, status: 'info', invokedAt: 5, returnedAt: Number.POSITIVE_INFINITY },
];

describe('timelines', () => {
  it('renders one lane per process with marked operations and a legend', () => {
    const text = renderTimeline(history, { model: registerModel(), highlight: [1], width: 40 });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^\s+t=0\s+t=30$/);
    expect(lines[1]).toMatch(/^p0 \[0-+\]/);
    // Lanes in order of first invocation.
    expect(lines[2]).toMatch(/^p2 \s+\[2-+…$/);
    expect(lines[3]).toMatch(/^p1 \s+\[1#+\]$/);
    expect(text).toContain('# #1 p1 ok   read → null [20, 30]');
    expect(text).toContain('  #2 p2 info write(2) (info) [5, ∞]');
  });

  it('formats a checker failure with the explanation and the timeline', () => {
    const result = checkLinearizability({ model: registerModel(), history });
    // The read returned null after write(1) completed; the unobserved info write(2) is set aside.
    expect(result.verdict).toBe('illegal');
    const report = formatCheckResult(result, history, registerModel());
    expect(report).toMatch(/^not linearizable: after the longest linearizable prefix \(1 operation\) the state is 1,/);
    expect(report).toContain('#1 p1: read → null must take effect before it returns at 30');
    expect(report).toContain('# #1 p1');
  });

  it('renders escaped HTML', () => {
    const html = renderTimelineHtml(history, { model: registerModel(), highlight: [1], title: '<seed 1>' });
    expect(html).toContain('<title>&#60;seed 1&#62;</title>');
    expect(html).toContain('class="op bad"');
    expect(html).toContain('class="op info"');
    expect(html).not.toContain('<seed 1>');
  });

  it('limits long histories to the operations around the marked ones', () => {
    const long: Operation<RegisterInput, RegisterOutput>[] = Array.from({ length: 200 }, (_, i) => ({
      id: i,
      process: i % 3,
      input: { type: 'read' },
      output: null,
      status: 'ok',
      invokedAt: i * 10,
      returnedAt: i * 10 + 5,
    }));
    const text = renderTimeline(long, { highlight: [150], maxOperations: 10 });
    expect(text).toContain('# #150');
    expect(text).toContain('(190 more operations not shown)');
    expect(text).not.toContain('#0 ');
  });
});
