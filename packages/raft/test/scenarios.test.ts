import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InteractionEnv } from './support/interaction.js';

const dir = fileURLToPath(new URL('./scenarios/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();

interface Block {
  comments: string[];
  command: string;
  expected: string;
}

function parse(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const comments: string[] = [];
    while (i < lines.length && (lines[i]?.startsWith('#') || lines[i]?.trim() === '')) {
      if (lines[i]?.startsWith('#')) comments.push(lines[i] ?? '');
      i++;
    }
    if (i >= lines.length) break;
    const command = lines[i] ?? '';
    i++;
    if (lines[i] !== '----') throw new Error(`expected ---- after "${command}" at line ${i + 1}`);
    i++;
    const out: string[] = [];
    while (i < lines.length && lines[i] !== '') out.push(lines[i++] ?? '');
    blocks.push({ comments, command, expected: out.join('\n') });
  }
  return blocks;
}

describe('scenarios', () => {
  it('has at least 30 scenario files', () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
  });

  const rewrite = process.env.REWRITE === '1';
  it.each(files)('%s', (file) => {
      const path = dir + file;
      const blocks = parse(readFileSync(path, 'utf8'));
      const env = new InteractionEnv();
      const rewritten: string[] = [];
      const actual: string[] = [];
      for (const b of blocks) {
        const out = env.run(b.command);
        actual.push(out);
        rewritten.push([...b.comments, b.command, '----', out].join('\n'));
      }
      // REWRITE=1 regenerates the expected output (review the diff for protocol correctness!).
      if (rewrite) writeFileSync(path, rewritten.join('\n\n') + '\n');
      const expected = rewrite ? actual : blocks.map((b) => b.expected);
      expect(blocks.map((b, i) => `${b.command}\n${actual[i] ?? ''}`).join('\n\n')).toBe(blocks.map((b, i) => `${b.command}\n${expected[i] ?? ''}`).join('\n\n'));
  });
});
