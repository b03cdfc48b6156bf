/**
 * Fault injection for the Atlas simulator: scripted misbehaviour that tests of retry, timeout and
 * validation logic need and that the real API only shows on a bad day.
 */

/** How a create response body is spoiled by a `mangleCreate` fault. */
export type CreateMangle =
  /** The PEM cut off in the middle of the certificate block. */
  | 'truncate'
  /** Only the certificate block; the private key is missing. */
  | 'dropKey'
  /** The real certificate with a private key that does not belong to it. */
  | 'wrongKey'
  /** A different certificate (the one recorded) whose CN is `<username>-other`. */
  | 'wrongCn'
  /** A certificate (the one recorded) valid for one day only. */
  | 'shortValidity'
  /** A certificate (the one recorded) whose notAfter is already in the past. */
  | 'expired'
  /** Text that is not PEM at all. */
  | 'garbage';

export type FaultAction =
  /** An ApiError response; the request has no side effects. */
  | { type: 'error'; status: number; errorCode: string; detail?: string; retryAfter?: number }
  /** The socket is reset before anything is processed. */
  | { type: 'reset' }
  /** The request is processed (e.g. a certificate is minted), then the socket is reset. */
  | { type: 'resetAfterProcessing' }
  /** Nothing is processed and nothing is sent for `ms` (default: until close), then the socket closes. */
  | { type: 'hang'; ms?: number }
  /** The request is processed, then nothing is sent for `ms` (default: until close). */
  | { type: 'hangAfterProcessing'; ms?: number }
  /** This exact response; the request has no side effects. */
  | {
      type: 'raw';
      status: number;
      body: string;
      contentType?: string;
      headers?: Record<string, string>;
    }
  /** Creates only: a real certificate is minted and recorded, the body is altered. */
  | { type: 'mangleCreate'; mangle: CreateMangle };

export type FaultType = FaultAction['type'];

export interface Fault {
  /** HTTP method to match (case-insensitive); any method when absent. */
  method?: string;
  /**
   * Path to match: a RegExp, or a substring. Matched against the path without the query, both as
   * received (percent-encoded) and decoded, so `/databaseUsers/a+b/certs` and
   * `/databaseUsers/a%2Bb/certs` both match a request for the user `a+b`.
   */
  path?: RegExp | string;
  /** How many matching requests the fault applies to; default 1, `Infinity` allowed. */
  times?: number;
  action: FaultAction;
}

interface ArmedFault {
  fault: Fault;
  remaining: number;
}

/** What a request looks like to the fault matcher. */
export interface FaultTarget {
  method: string;
  rawPath: string;
  decodedPath: string;
  /** Whether the request is a certificate create; `mangleCreate` faults only match those. */
  isCreate: boolean;
}

const pathMatches = (pattern: RegExp | string, candidates: readonly string[]): boolean =>
  candidates.some((candidate) => {
    if (typeof pattern === 'string') return candidate.includes(pattern);
    // A /g or /y RegExp keeps state between test() calls; matching must not depend on history.
    pattern.lastIndex = 0;
    return pattern.test(candidate);
  });

/** Faults in injection order; the first one matching a request is consumed once. */
export class FaultQueue {
  readonly #armed: ArmedFault[] = [];

  add(fault: Fault): void {
    const times = fault.times ?? 1;
    if (!(times > 0)) throw new RangeError(`fault.times must be positive, got ${times}`);
    this.#armed.push({ fault, remaining: times });
  }

  clear(): void {
    this.#armed.length = 0;
  }

  get pending(): number {
    return this.#armed.length;
  }

  /** Finds the first fault matching the request, consumes one of its uses and returns its action. */
  take(target: FaultTarget): FaultAction | undefined {
    const index = this.#armed.findIndex(({ fault }) => {
      if (fault.method && fault.method.toUpperCase() !== target.method) return false;
      if (fault.path && !pathMatches(fault.path, [target.rawPath, target.decodedPath])) {
        return false;
      }
      return fault.action.type !== 'mangleCreate' || target.isCreate;
    });
    const armed = this.#armed[index];
    if (!armed) return undefined;
    armed.remaining -= 1;
    if (armed.remaining <= 0) this.#armed.splice(index, 1);
    return armed.fault.action;
  }
}
