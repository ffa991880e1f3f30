import { randomBytes } from 'node:crypto';
import { Etcd3 } from 'etcd3';

/** A unique key prefix per test: the shared etcd is used by every test file of the package. */
export function uniquePrefix(name: string): string {
  return `test/${name}/${randomBytes(6).toString('hex')}`;
}

export function etcdClient(endpoints: readonly string[]): Etcd3 {
  return new Etcd3({ hosts: [...endpoints] });
}

/**
 * A register on etcd that rejects stale fencing tokens: a write carrying a token lower
 * than the highest accepted so far fails. Tokens are zero-padded so etcd's byte-wise
 * value comparison orders them numerically.
 */
export class FencedRegister {
  constructor(
    readonly client: Etcd3,
    readonly key: string,
  ) {}

  static pad(token: bigint): string {
    return token.toString().padStart(20, '0');
  }

  async init(): Promise<void> {
    await this.client.put(this.key).value(FencedRegister.pad(0n));
  }

  /** Accepts the write (and logs it under `<key>-log/<token>`) unless a higher token was accepted before. */
  async write(token: bigint, note: string): Promise<boolean> {
    const padded = FencedRegister.pad(token);
    const result = await this.client
      .if(this.key, 'Value', '>', padded)
      .then(this.client.get(this.key))
      .else(this.client.put(this.key).value(padded), this.client.put(`${this.key}-log/${padded}/${note}`).value(note))
      .commit();
    return !result.succeeded;
  }

  async read(): Promise<bigint> {
    return BigInt((await this.client.get(this.key).string()) ?? '0');
  }

  /** Accepted writes in the order etcd applied them: [token, note]. */
  async log(): Promise<{ token: bigint; note: string }[]> {
    const response = await this.client.getAll().prefix(`${this.key}-log/`).sort('Mod', 'Ascend').exec();
    return response.kvs.map((kv) => {
      const [, token, note] = /-log\/(\d+)\/(.*)$/.exec(kv.key.toString()) ?? [];
      return { token: BigInt(token ?? '0'), note: note ?? '' };
    });
  }
}
