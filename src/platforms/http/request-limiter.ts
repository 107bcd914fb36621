import PQueue from 'p-queue';

/**
 * Caps requests in flight and spaces request starts so that no 60 s window ever holds more
 * than `requestsPerMinute` starts. A retry is a request: it takes a slot again. `pauseFor`
 * holds every start (used when the platform answers 429).
 *
 * Built on p-queue: `concurrency` is the cap, its sliding-window rate limit (`strict`) the
 * budget, and `pause()`/`start()` the global pause. A slot is a p-queue task that stays
 * running from `acquire` until `release`.
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
/**
 * p-queue counts starts in whole milliseconds, so a spacing of 2.04 ms would round to 3 ms
 * and lose a third of the budget. Below this spacing, k starts are allowed per window of
 * k spacings (at least this long), which keeps the rounding loss under 5%.
 */
const MIN_WINDOW_MS = 20;

export class RequestLimiter {
  readonly concurrency: number;
  readonly minSpacingMs: number;
  private readonly queue: PQueue;
  private readonly held: Array<() => void> = [];
  private maxInFlightSeen = 0;
  private pausedUntil = 0;
  private resumeTimer: NodeJS.Timeout | null = null;

  constructor(options: RequestLimiterOptions) {
    if (!(options.concurrency >= 1)) throw new Error('concurrency must be at least 1');
    if (!(options.requestsPerMinute > 0)) throw new Error('requestsPerMinute must be positive');
    this.concurrency = Math.floor(options.concurrency);
    this.minSpacingMs = (60_000 / options.requestsPerMinute) * (1 + SPACING_MARGIN);
    // One start per spacing; at high budgets, k starts per window of k spacings (same rate).
    const perWindow = Math.max(1, Math.ceil(MIN_WINDOW_MS / this.minSpacingMs));
    const interval = Math.ceil(perWindow * this.minSpacingMs);
    this.queue = new PQueue({ concurrency: this.concurrency, intervalCap: perWindow, interval, strict: true });
  }

  get active(): number {
    return this.queue.pending;
  }

  get maxActive(): number {
    return this.maxInFlightSeen;
  }

  get queued(): number {
    return this.queue.size;
  }

  /** Resolves when a slot is free and the budget and any pause allow a start. */
  acquire(): Promise<void> {
    return new Promise((granted) => {
      void this.queue.add(
        () =>
          new Promise<void>((release) => {
            this.held.push(release);
            if (this.queue.pending > this.maxInFlightSeen) this.maxInFlightSeen = this.queue.pending;
            granted();
          }),
      );
    });
  }

  /** Frees one slot (slots are interchangeable). */
  release(): void {
    this.held.shift()?.();
  }

  /** Holds every start for `ms` (or longer, if a pause already runs longer). */
  pauseFor(ms: number): void {
    const until = performance.now() + Math.max(0, ms);
    if (until <= this.pausedUntil) return;
    this.pausedUntil = until;
    this.queue.pause();
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = null;
      this.queue.start();
    }, Math.ceil(ms));
  }
}
