/**
 * The contract checks of a test process: every exchange the simulator reports goes through
 * check.ts; violations wait here until the test that caused them ends (setup.ts fails it).
 */
import { checkAnswer, checkRequest, type Exchange, isClientRequest } from './check.js';
import { bareMediaType, type Contract, loadContract, versionOf } from './spec.js';

export interface ContractCounts {
  /** Requests of the Atlas client checked (others, e.g. a test's own fetch, are not its). */
  requests: number;
  /** Simulator answers checked. */
  answers: number;
  /** Answers an injected fault shaped: off-contract on purpose, so not checked. */
  faulted: number;
}

export class ContractMonitor {
  readonly counts: ContractCounts = { requests: 0, answers: 0, faulted: 0 };
  /** `METHOD template` -> the version dates the client asked for. */
  readonly versionsAsked = new Map<string, Set<string>>();
  #violations: string[] = [];

  #contract: Contract | undefined;

  /** Loaded on the first exchange: files that start no simulator do not pay for it (~1 s). */
  get contract(): Contract {
    if (!this.#contract) this.#contract = loadContract();
    return this.#contract;
  }

  observe(exchange: Exchange): void {
    try {
      if (isClientRequest(exchange)) {
        this.counts.requests += 1;
        this.#violations.push(...checkRequest(this.contract, exchange).map((v) => `request ${v}`));
        this.#noteVersion(exchange);
      }
      if (exchange.fault !== undefined) {
        this.counts.faulted += 1;
        return;
      }
      this.counts.answers += 1;
      this.#violations.push(...checkAnswer(this.contract, exchange).map((v) => `answer ${v}`));
    } catch (err) {
      // Never into the simulator: a crash of the checks is reported like a violation.
      this.#violations.push(
        `the contract check itself failed on ${exchange.method} ${exchange.url}: ${String(err)}`,
      );
    }
  }

  /** The violations since the last call. */
  drain(): string[] {
    const found = this.#violations;
    this.#violations = [];
    return found;
  }

  #noteVersion(exchange: Exchange): void {
    const path = exchange.url.split('?')[0] ?? '';
    const op = this.contract.find(exchange.method, path)?.operation;
    const accept = exchange.headers.accept;
    if (!op || typeof accept !== 'string') return;
    const key = `${op.method} ${op.template}`;
    const dates = this.versionsAsked.get(key) ?? new Set<string>();
    for (const part of accept.split(',')) {
      const date = versionOf(bareMediaType(part));
      if (date) dates.add(date);
    }
    this.versionsAsked.set(key, dates);
  }
}

let shared: ContractMonitor | undefined;

/** One monitor per test process: the files of a worker share it (and its compiled schemas). */
export const contractMonitor = (): ContractMonitor => {
  shared ??= new ContractMonitor();
  return shared;
};

/**
 * A note for each operation whose spec offers a version date newer than the newest the client
 * asked for: upgrading is a decision to take, not a failure.
 */
export const newerVersionNotes = (
  contract: Contract,
  versionsAsked: ReadonlyMap<string, ReadonlySet<string>>,
): string[] => {
  const notes: string[] = [];
  for (const [key, asked] of versionsAsked) {
    const op = contract.operations.find((o) => `${o.method} ${o.template}` === key);
    const newestAsked = [...asked].sort().at(-1);
    const newer = op?.versions.filter((v) => newestAsked !== undefined && v > newestAsked) ?? [];
    if (newer.length > 0) {
      notes.push(
        `${key} (${op?.operationId}): the client asks ${newestAsked}; the spec also has ${newer.join(', ')}`,
      );
    }
  }
  return notes;
};
