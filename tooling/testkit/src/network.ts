// The simulated network's state: per-link behaviour (delay distribution, drop,
// duplicate, FIFO or reordering) and the set of blocked directed links that
// partitions produce. Delivery itself is scheduled by the simulation.
import { uniform, validateDistribution, type Distribution } from './distribution.js';

export interface LinkOptions {
  /** One-way delay of each message. Default uniform 1–10 ms. */
  readonly delay?: Distribution;
  /** Probability a message is lost. Default 0. */
  readonly dropRate?: number;
  /** Probability a message is delivered twice (the copy gets its own delay). Default 0. */
  readonly duplicateRate?: number;
  /**
   * Keep messages on this directed link in send order (TCP-like). Default false:
   * each message's delay is sampled independently, so messages reorder.
   */
  readonly fifo?: boolean;
}

export interface ResolvedLink {
  readonly delay: Distribution;
  readonly dropRate: number;
  readonly duplicateRate: number;
  readonly fifo: boolean;
}

export interface NetworkOptions {
  /** Behaviour of every link not listed in `links`. */
  readonly defaults?: LinkOptions;
  /** Per directed link overrides; `'*'` matches any endpoint. Later entries win. */
  readonly links?: readonly (LinkOptions & { readonly from: string; readonly to: string })[];
}

const DEFAULT_LINK: ResolvedLink = { delay: uniform(1, 10), dropRate: 0, duplicateRate: 0, fifo: false };

export function validateLinkOptions(options: LinkOptions, name: string): void {
  if (options.delay !== undefined) validateDistribution(options.delay, `${name}.delay`);
  for (const field of ['dropRate', 'duplicateRate'] as const) {
    const v = options[field];
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1)) {
      throw new RangeError(`${name}.${field} must be a probability in [0, 1], got ${String(v)}`);
    }
  }
}

function merge(base: ResolvedLink, over: LinkOptions): ResolvedLink {
  return {
    delay: over.delay ?? base.delay,
    dropRate: over.dropRate ?? base.dropRate,
    duplicateRate: over.duplicateRate ?? base.duplicateRate,
    fifo: over.fifo ?? base.fifo,
  };
}

/** Link configuration and partitions; the simulation asks it about each message. */
export class NetworkState {
  readonly #defaults: ResolvedLink;
  readonly #configured: readonly (LinkOptions & { from: string; to: string })[];
  /** Overrides set at run time by the nemesis (`'*'` matches any endpoint), applied in order. */
  #overrides: (LinkOptions & { from: string; to: string })[] = [];
  readonly #blocked = new Set<string>();
  readonly #lastDelivery = new Map<string, number>();

  constructor(options: NetworkOptions = {}) {
    if (options.defaults) validateLinkOptions(options.defaults, 'network.defaults');
    (options.links ?? []).forEach((l, i) => validateLinkOptions(l, `network.links[${i}]`));
    this.#defaults = merge(DEFAULT_LINK, options.defaults ?? {});
    this.#configured = options.links ?? [];
  }

  link(from: string, to: string): ResolvedLink {
    let resolved = this.#defaults;
    for (const l of this.#configured) {
      if ((l.from === '*' || l.from === from) && (l.to === '*' || l.to === to)) resolved = merge(resolved, l);
    }
    for (const l of this.#overrides) {
      if ((l.from === '*' || l.from === from) && (l.to === '*' || l.to === to)) resolved = merge(resolved, l);
    }
    return resolved;
  }

  setLink(from: string, to: string, options: LinkOptions): void {
    validateLinkOptions(options, `link ${from}->${to}`);
    this.#overrides.push({ ...options, from, to });
  }

  resetLinks(): void {
    this.#overrides = [];
  }

  block(from: string, to: string): void {
    this.#blocked.add(`${from}\u0000${to}`);
  }

  isBlocked(from: string, to: string): boolean {
    return this.#blocked.has(`${from}\u0000${to}`);
  }

  heal(): void {
    this.#blocked.clear();
  }

  get partitioned(): boolean {
    return this.#blocked.size > 0;
  }

  /** For FIFO links: the delivery time must not precede the link's previous delivery. */
  fifoDeliveryTime(from: string, to: string, proposed: number): number {
    const key = `${from}\u0000${to}`;
    const time = Math.max(proposed, this.#lastDelivery.get(key) ?? 0);
    this.#lastDelivery.set(key, time);
    return time;
  }
}
