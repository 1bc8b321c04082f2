/**
 * Sends a standalone gateway's request measurements to the control plane's analysis
 * (`POST /v1/measurements`) once a second. Bounded: past `maxBuffered` records, new ones are
 * dropped and counted; a batch that fails to send is dropped and counted too (at most once, so a
 * retry can never count a request twice). The counts are on the gateway's `/metrics`.
 */
import type { GatewayEvent, Measurements, RequestMeasurement } from './measurements.js';

export type SendMeasurements = (batch: RequestMeasurement[]) => Promise<void>;

export interface MeasurementForwarderOptions {
  measurements: Measurements;
  send: SendMeasurements;
  intervalMs?: number;
  maxBuffered?: number;
  maxBatch?: number;
  onError?: (err: unknown) => void;
}

export class MeasurementForwarder {
  private buffer: RequestMeasurement[] = [];
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private flushing: Promise<void> | undefined;
  readonly counters = { sent: 0, dropped: 0, failedBatches: 0 };

  constructor(private readonly opts: MeasurementForwarderOptions) {
    opts.measurements.gauges.set('sluice_gateway_measurements_forwarded', {
      help: 'Request measurements delivered to the control plane analysis since start.',
      value: () => this.counters.sent,
    });
    opts.measurements.gauges.set('sluice_gateway_measurements_dropped', {
      help: 'Request measurements dropped since start: buffer full or delivery failed (never retried, so never counted twice).',
      value: () => this.counters.dropped,
    });
  }

  start(): void {
    const max = this.opts.maxBuffered ?? 100_000;
    this.unsubscribe = this.opts.measurements.subscribe((e: GatewayEvent) => {
      if (e.type !== 'request') return;
      if (this.buffer.length >= max) this.counters.dropped++;
      else this.buffer.push(e.measurement);
    });
    this.timer = setInterval(() => void this.flush(), this.opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.unsubscribe?.();
    await this.flush();
  }

  /** Send what is buffered, in batches; concurrent calls share one flush. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async drain(): Promise<void> {
    const maxBatch = this.opts.maxBatch ?? 5_000;
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, maxBatch);
      try {
        await this.opts.send(batch);
        this.counters.sent += batch.length;
      } catch (err) {
        this.counters.dropped += batch.length;
        this.counters.failedBatches++;
        this.opts.onError?.(err);
      }
    }
  }
}
