// A small log-bucketed histogram: bucket i > 0 covers [BASE^(i-1), BASE^i) × UNIT,
// so every quantile is reported within ~2% relative error with constant memory
// and O(1) recording (one Math.log). Values below UNIT land in bucket 0.

const GROWTH = 1.04;
const LOG_GROWTH = Math.log(GROWTH);
/** Smallest distinguishable value: 1 µs when values are milliseconds. */
const UNIT = 0.001;
/** Enough buckets for UNIT × 1.04^1024 ≈ 2.8e14 (far beyond any task duration). */
const BUCKETS = 1024;

export interface HistogramSnapshot {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
}

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private sum = 0;
  private minValue = Number.POSITIVE_INFINITY;
  private maxValue = 0;

  record(value: number): void {
    if (!(value >= 0)) value = 0; // also maps NaN to 0
    let index = value < UNIT ? 0 : 1 + Math.floor(Math.log(value / UNIT) / LOG_GROWTH);
    if (index >= BUCKETS) index = BUCKETS - 1;
    this.counts[index]! += 1;
    this.total += 1;
    this.sum += value;
    if (value < this.minValue) this.minValue = value;
    if (value > this.maxValue) this.maxValue = value;
  }

  get count(): number {
    return this.total;
  }

  /** The value at quantile `q` (0..1): the midpoint of its bucket, clamped to the observed min/max. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        const low = i === 0 ? 0 : UNIT * GROWTH ** (i - 1);
        const high = UNIT * GROWTH ** i;
        return Math.min(this.maxValue, Math.max(this.minValue, (low + high) / 2));
      }
    }
    return this.maxValue;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sum = 0;
    this.minValue = Number.POSITIVE_INFINITY;
    this.maxValue = 0;
  }

  snapshot(): HistogramSnapshot {
    return {
      count: this.total,
      min: this.total === 0 ? 0 : this.minValue,
      max: this.maxValue,
      mean: this.total === 0 ? 0 : this.sum / this.total,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
    };
  }
}

/** Counters and timings shared by the pool's and the limiter's `stats()`. */
export interface TaskStats {
  queueSize: number;
  completed: number;
  failed: number;
  cancelled: number;
  timedOut: number;
  rejected: number;
  /** Busy time over available time since creation, 0..1 (see each `stats()` for what counts as available). */
  utilization: number;
  /** Milliseconds each task ran. */
  runTime: HistogramSnapshot;
  /** Milliseconds from `run()` until the task started (limiter) or was handed to a thread (pool). */
  waitTime: HistogramSnapshot;
}
