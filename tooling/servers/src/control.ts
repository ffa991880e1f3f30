// A small HTTP service on loopback, run by the vitest global setup in the main
// process, that owns every server process. Test files (in worker processes)
// ask it to start private groups and to stop/pause/restart members, so the
// processes always have one owner that cleans them up.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { LOOPBACK } from './net.js';
import { SERVER_ACTIONS, ServerGroup, type ServerAction, type ServerNeeds } from './group.js';

export class ServerManager {
  readonly #groups = new Map<string, ServerGroup>();
  #nextId = 1;
  #http: Server | undefined;
  #url = '';

  get url(): string {
    return this.#url;
  }

  async createGroup(needs: ServerNeeds, id = `g${this.#nextId++}`): Promise<ServerGroup> {
    const group = await ServerGroup.start(id, needs);
    this.#groups.set(id, group);
    return group;
  }

  async destroyGroup(id: string): Promise<void> {
    const group = this.#groups.get(id);
    this.#groups.delete(id);
    await group?.destroy();
  }

  async listen(): Promise<string> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => reply(res, 500, { error: String(error) }));
    });
    this.#http = server;
    await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('control server has no port');
    server.unref();
    this.#url = `http://${LOOPBACK}:${address.port}`;
    return this.#url;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.#http ? this.#http.close(() => resolve()) : resolve()));
    this.#http?.closeAllConnections();
    await Promise.all([...this.#groups.keys()].map((id) => this.destroyGroup(id)));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parts = (req.url ?? '/').split('/').filter(Boolean);
    if (req.method === 'POST' && parts.length === 1 && parts[0] === 'groups') {
      const needs = JSON.parse(await readBody(req)) as ServerNeeds;
      const group = await this.createGroup(needs);
      return reply(res, 200, group.info());
    }
    const group = parts[0] === 'groups' && parts[1] ? this.#groups.get(parts[1]) : undefined;
    if (!group) return reply(res, 404, { error: `no such group: ${req.url}` });
    if (req.method === 'DELETE' && parts.length === 2) {
      await this.destroyGroup(group.id);
      return reply(res, 200, { ok: true });
    }
    if (req.method === 'POST' && parts.length === 4 && parts[2] === 'etcd' && parts[3] === 'wait-healthy') {
      if (!group.etcd) return reply(res, 400, { error: 'group has no etcd cluster' });
      await group.etcd.waitHealthy();
      return reply(res, 200, { ok: true });
    }
    if (req.method === 'POST' && parts.length === 5 && (parts[2] === 'redis' || parts[2] === 'etcd')) {
      const index = Number(parts[3]);
      const action = parts[4] as ServerAction;
      if (!SERVER_ACTIONS.includes(action)) return reply(res, 400, { error: `unknown action ${action}` });
      await group.act(parts[2], index, action);
      return reply(res, 200, { ok: true });
    }
    return reply(res, 404, { error: `unknown route ${req.method ?? ''} ${req.url ?? ''}` });
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => resolve(body || '{}'));
    req.on('error', reject);
  });
}
