import { RotatorError } from '../../../functions/domain/errors.js';
import type { LeasePort, LeaseResult } from '../../../functions/domain/rotation/index.js';
import { Calls } from './calls.js';
import type { FakeClock } from './clock.js';

/** Run-scoped, like the adapter's `LeaseError` for a missing table. */
export const leaseTableMissing = (): RotatorError =>
  new RotatorError('Lease table atlas-x509-rotator-locks does not exist', {
    code: 'LEASE_TABLE_MISSING',
    remedy: 'Deploy the stack, or create the table.',
    scope: 'run',
  });

/** Leases with DynamoDB's condition: taken unless a live lease (anyone's) exists. */
export class FakeLeases implements LeasePort {
  readonly calls = new Calls<LeasePort>();
  readonly held = new Map<string, { owner: string; expiresAt: Date }>();
  /** Keys this run acquired, in order. */
  readonly taken: string[] = [];

  constructor(
    private readonly clock: FakeClock,
    readonly owner: string,
    private readonly leaseMs: number,
  ) {}

  async check(): Promise<void> {
    await this.calls.enter('check', []);
  }

  async acquire(key: string): Promise<LeaseResult> {
    await this.calls.enter('acquire', [key]);
    const now = this.clock.now().getTime();
    const lease = this.held.get(key);
    // A live lease blocks every other owner; re-taking our own succeeds, as in DynamoDB.
    if (lease && lease.owner !== this.owner && lease.expiresAt.getTime() >= now) {
      return { acquired: false, owner: lease.owner, expiresAt: lease.expiresAt };
    }
    const expiresAt = new Date(now + this.leaseMs);
    this.held.set(key, { owner: this.owner, expiresAt });
    this.taken.push(key);
    return { acquired: true, expiresAt };
  }

  async release(key: string): Promise<void> {
    await this.calls.enter('release', [key]);
    if (this.held.get(key)?.owner === this.owner) this.held.delete(key);
  }

  /** Another run holds `key` for `ms` from now. */
  holdBy(key: string, owner: string, ms: number): void {
    this.held.set(key, { owner, expiresAt: new Date(this.clock.now().getTime() + ms) });
  }
}
