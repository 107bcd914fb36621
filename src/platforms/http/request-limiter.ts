/**
 * Caps requests in flight and spaces request starts evenly so that no 60 s window
 * ever holds more than `requestsPerMinute` starts. A retry is a request: it takes a
 * slot again. `pauseFor` holds every start (used when the platform answers 429).
 */
export interface RequestLimiterOptions {
  concurrency: number;
  requestsPerMinute: number;
}

/**
 * Starts leave here evenly spaced but reach the platform with event-loop and network
 * jitter; a little slack keeps a jittered pair from counting as one request too many
 * in the platform's window.
 */
const SPACING_MARGIN = 0.02;

export class RequestLimiter {
  readonly concurrency: number;
  readonly minSpacingMs: number;
  private inFlight = 0;
  private maxInFlightSeen = 0;
  private nextStartAt = 0;
  private pausedUntil = 0;
  private readonly waiting: Array<() => void> = [];
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;

  constructor(options: RequestLimiterOptions) {
    if (!(options.concurrency >= 1)) throw new Error('concurrency must be at least 1');
    if (!(options.requestsPerMinute > 0)) throw new Error('requestsPerMinute must be positive');
    this.concurrency = Math.floor(options.concurrency);
    this.minSpacingMs = (60_000 / options.requestsPerMinute) * (1 + SPACING_MARGIN);
  }

  get active(): number {
    return this.inFlight;
  }

  get maxActive(): number {
    return this.maxInFlightSeen;
  }

  get queued(): number {
    return this.waiting.length;
  }

  acquire(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.pump();
    });
  }

  release(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.pump();
  }

  pauseFor(ms: number): void {
    const until = performance.now() + Math.max(0, ms);
    if (until > this.pausedUntil) this.pausedUntil = until;
    this.pump();
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.inFlight < this.concurrency) {
      const now = performance.now();
      const startAt = Math.max(this.nextStartAt, this.pausedUntil);
      if (startAt > now) {
        this.schedule(startAt - now);
        return;
      }
      const next = this.waiting.shift()!;
      this.inFlight += 1;
      if (this.inFlight > this.maxInFlightSeen) this.maxInFlightSeen = this.inFlight;
      this.nextStartAt = now + this.minSpacingMs;
      next();
    }
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.immediate) return;
    if (delayMs < 1) {
      // Timers have a 1 ms floor: sub-millisecond spacing (very high budgets) would cap the rate.
      this.immediate = setImmediate(() => {
        this.immediate = null;
        this.pump();
      });
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pump();
    }, Math.ceil(delayMs));
  }
}
