import type { DeserializeMiddleware, MetadataBearer } from '@smithy/types';

/**
 * At most `limit` starts in any `intervalMs`, counted when each start really happens, and spread
 * evenly (one every `intervalMs / limit`) rather than in bursts of `limit`. Secrets Manager's
 * quota counts arrivals: a burst's requests reach it spread by their varying transit (a new
 * connection, a busy event loop), so one window of arrivals could hold parts of two bursts; and
 * a schedule computed ahead (p-throttle's strict mode) releases every late timer at once.
 * Waiters start in arrival order.
 */
export class SlidingWindow {
  /** When the last `limit` starts happened, oldest first. */
  private readonly starts: number[] = [];
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly limit: number,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs `work` once the window has room; its start is counted then. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const turn = this.queue.then(() => this.room());
    this.queue = turn;
    return turn.then(work);
  }

  private async room(): Promise<void> {
    for (;;) {
      const oldest = this.starts.length < this.limit ? undefined : this.starts[0];
      const last = this.starts.at(-1);
      const now = this.now();
      const wait = Math.max(
        oldest === undefined ? 0 : oldest + this.intervalMs - now,
        last === undefined ? 0 : last + this.intervalMs / this.limit - now,
      );
      if (wait <= 0) break;
      // The global timer, which test clocks (vi.useFakeTimers) control too.
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
    }
    this.starts.push(this.now());
    if (this.starts.length > this.limit) this.starts.shift();
  }
}

/**
 * Secrets Manager allows 50 requests a second per Region for each write family, and the quota
 * cannot be raised. A large run would exceed it (a renewal makes three value writes) and then
 * lean on retries while minted keys exist only in memory. So writes are paced per process at 40
 * a second per family, leaving 10 to the account's other writers. One process at a time: every
 * writing run (scheduled, catch-up, a manual invoke, the CLI) holds the run lock
 * (`domain/rotation/catch-up.ts`), so two processes never write at 2 x 40 a second.
 */
export const WRITES_PER_SECOND = 40;

/** The write families of Secrets Manager's quotas page; GetResourcePolicy shares its family's. */
const FAMILY_OF: Readonly<Record<string, string>> = {
  CreateSecretCommand: 'create',
  PutSecretValueCommand: 'value',
  UpdateSecretVersionStageCommand: 'value',
  ReplicateSecretToRegionsCommand: 'value',
  RemoveRegionsFromReplicationCommand: 'value',
  TagResourceCommand: 'tag',
  UntagResourceCommand: 'tag',
  PutResourcePolicyCommand: 'policy',
  GetResourcePolicyCommand: 'policy',
  DeleteResourcePolicyCommand: 'policy',
};

/** One window per family for the whole process: every client's writes share the quota. */
const windows = new Map<string, SlidingWindow>();

/**
 * The SDK middleware that paces writes, innermost (the `deserialize` step, low priority): each
 * attempt, the SDK's retries included, waits for its family's window right before it is sent,
 * after signing, so what the window counts is what reaches Secrets Manager.
 */
export const writePace: DeserializeMiddleware<object, MetadataBearer> =
  (next, context) => (args) => {
    const family = FAMILY_OF[context.commandName ?? ''];
    if (!family) return next(args);
    let window = windows.get(family);
    if (!window) {
      window = new SlidingWindow(WRITES_PER_SECOND, 1000);
      windows.set(family, window);
    }
    return window.run(() => next(args));
  };

export const WRITE_PACE_STEP = { step: 'deserialize', priority: 'low', name: 'writePace' } as const;
