import type { Entry, Message, Ready, Snapshot } from '../../src/index.js';
import { decodeConfChange } from '../../src/index.js';

const td = new TextDecoder();

export function entryText(e: Entry): string {
  if (e.type === 'confChange') {
    const cc = decodeConfChange(e.data);
    const parts = cc.changes.map((c) => `${c.type === 'addNode' ? 'v' : c.type === 'addLearner' ? 'l' : 'r'}${c.nodeId}`);
    return `${e.term}/${e.index} EntryConfChange ${parts.length === 0 ? '(leave-joint)' : parts.join(' ')}${cc.transition !== 'auto' ? ` ${cc.transition ?? ''}` : ''}`;
  }
  return `${e.term}/${e.index} EntryNormal ${JSON.stringify(td.decode(e.data))}`;
}

export function snapshotText(s: Snapshot): string {
  const cs = s.metadata.confState;
  const out = `Index:${s.metadata.index} Term:${s.metadata.term} Voters:[${cs.voters.join(' ')}]`;
  return out + (cs.learners.length > 0 ? ` Learners:[${cs.learners.join(' ')}]` : '') + (cs.votersOutgoing.length > 0 ? ` Outgoing:[${cs.votersOutgoing.join(' ')}]` : '');
}

export function messageText(m: Message): string {
  let s = `${m.from}->${m.to} ${m.type} Term:${m.term}`;
  switch (m.type) {
    case 'MsgApp':
      s += ` Log:${m.logTerm}/${m.index} Commit:${m.commit}`;
      if (m.entries.length > 0) s += ` Entries:[${m.entries.map(entryText).join(', ')}]`;
      break;
    case 'MsgAppResp':
      s += ` Index:${m.index}`;
      if (m.reject) s += ` Rejected (Hint: ${m.rejectHint}, LogTerm: ${m.logTerm})`;
      break;
    case 'MsgVote':
    case 'MsgPreVote':
      s += ` Log:${m.logTerm}/${m.index}`;
      if (m.context !== undefined) s += ` (${td.decode(m.context)})`;
      break;
    case 'MsgVoteResp':
    case 'MsgPreVoteResp':
      if (m.reject) s += ' Rejected';
      break;
    case 'MsgHeartbeat':
      s += ` Commit:${m.commit}`;
      if (m.context !== undefined) s += ` ctx:${td.decode(m.context)}`;
      break;
    case 'MsgHeartbeatResp':
      if (m.context !== undefined) s += ` ctx:${td.decode(m.context)}`;
      break;
    case 'MsgSnap':
      if (m.snapshot !== undefined) s += ` Snapshot: ${snapshotText(m.snapshot)}`;
      if (m.chunk !== undefined && m.snapshot !== undefined) s += ` Chunk: bytes ${m.chunk.offset}-${m.chunk.offset + m.snapshot.data.byteLength} of ${m.chunk.totalBytes}`;
      break;
    case 'MsgProp':
      s += ` Entries:[${m.entries.map(entryText).join(', ')}]`;
      break;
    case 'MsgReadIndex':
    case 'MsgReadIndexResp':
      if (m.type === 'MsgReadIndexResp') s += ` Index:${m.index}`;
      if (m.context !== undefined) s += ` ctx:${td.decode(m.context)}`;
      break;
    default:
      break;
  }
  return s;
}

export function readyText(rd: Ready): string[] {
  const out: string[] = [];
  if (rd.softState !== undefined) out.push(`Lead:${rd.softState.lead} State:${rd.softState.state}`);
  if (rd.hardState !== undefined) out.push(`HardState Term:${rd.hardState.term} Vote:${rd.hardState.vote} Commit:${rd.hardState.commit}`);
  if (rd.entries.length > 0) {
    out.push('Entries:');
    for (const e of rd.entries) out.push(`  ${entryText(e)}`);
  }
  if (rd.snapshot !== undefined) out.push(`Snapshot ${snapshotText(rd.snapshot)}`);
  if (rd.committedEntries.length > 0) {
    out.push('CommittedEntries:');
    for (const e of rd.committedEntries) out.push(`  ${entryText(e)}`);
  }
  if (rd.messages.length > 0) {
    out.push('Messages:');
    for (const m of rd.messages) out.push(`  ${messageText(m)}`);
  }
  if (rd.readStates.length > 0) {
    out.push('ReadStates:');
    for (const r of rd.readStates) out.push(`  Index:${r.index} ctx:${td.decode(r.requestCtx)}`);
  }
  return out;
}
