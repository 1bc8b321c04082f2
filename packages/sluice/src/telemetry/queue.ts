/**
 * The ingest queue: decoding and aggregating a batch is CPU work on the event loop, so requests
 * wait here, run one at a time, and the loop yields between them to keep accepting I/O. The
 * queue is bounded in jobs and bytes: past either bound a request is refused at once (the
 * caller answers 429 with Retry-After) rather than buffered without limit or dropped.
 */
export interface IngestQueueOptions {
  /** Jobs waiting or running. */
  maxJobs?: number;
  /** Request bytes waiting or running. */
  maxBytes?: number;
}

interface Job {
  bytes: number;
  run: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class IngestQueue {
  readonly maxJobs: number;
  readonly maxBytes: number;
  private readonly jobs: Job[] = [];
  private queuedBytes = 0;
  private draining = false;
  private paused = false;
  /** Recent cost of the work, in ms per byte (EWMA), for Retry-After. */
  private msPerByte = 0.0005;
  refused = 0;
  processed = 0;

  constructor(opts: IngestQueueOptions = {}) {
    this.maxJobs = opts.maxJobs ?? 64;
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  }

  get depth(): number {
    return this.jobs.length;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  /** Would a request of `bytes` fit now? (A request without Content-Length is checked as 0.) */
  hasRoom(bytes: number): boolean {
    return this.jobs.length < this.maxJobs && (this.queuedBytes + bytes <= this.maxBytes || this.jobs.length === 0);
  }

  /** Queue `run`; undefined (and counted) when the queue is full. */
  offer<T>(bytes: number, run: () => T): Promise<T> | undefined {
    if (!this.hasRoom(bytes)) {
      this.refused++;
      return undefined;
    }
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ bytes, run, resolve: resolve as (v: unknown) => void, reject });
      this.queuedBytes += bytes;
      this.kick();
    });
  }

  /** Count a refusal decided before `offer` (e.g. from Content-Length). */
  refuse(): void {
    this.refused++;
  }

  /** Seconds a refused client should wait: the time to work off what is queued, 1..30. */
  retryAfterSeconds(): number {
    return Math.min(30, Math.max(1, Math.ceil((this.queuedBytes * this.msPerByte) / 1000)));
  }

  /** Stop running jobs (they keep queueing up to the bounds). For drains and tests. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.kick();
  }

  private kick(): void {
    if (this.draining || this.paused || this.jobs.length === 0) return;
    this.draining = true;
    setImmediate(() => this.step());
  }

  private step(): void {
    this.draining = false;
    if (this.paused) return;
    const job = this.jobs[0];
    if (!job) return;
    const t = performance.now();
    try {
      job.resolve(job.run());
    } catch (err) {
      job.reject(err);
    } finally {
      if (job.bytes > 0) this.msPerByte = 0.8 * this.msPerByte + (0.2 * (performance.now() - t)) / job.bytes;
      this.jobs.shift();
      this.queuedBytes -= job.bytes;
      this.processed++;
    }
    this.kick();
  }
}
