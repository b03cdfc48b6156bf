import { CreateOutcomeUnknownError, RotatorError } from '../../../functions/domain/errors.js';
import { HOUR_MS } from '../../../functions/domain/renewal.js';
import type {
  AtlasCertificate,
  AtlasDatabaseUser,
  AtlasPort,
  CreateOptions,
} from '../../../functions/domain/rotation/index.js';
import {
  addCalendarMonths,
  createProjectCa,
  type MintedCertificate,
  mintCertificate,
  type ProjectCa,
  type RsaKeyPair,
  randomSerial,
  subjectFor,
  truncateToSeconds,
} from '../../../tools/simulator/pki.js';
import { Calls } from './calls.js';
import type { FakeClock } from './clock.js';
import type { CertDates, TestPki } from './pki.js';

export interface FakeCertificate extends AtlasCertificate {
  minted: MintedCertificate;
  /** List calls still to come that leave it out: Atlas's list lagging behind a create. */
  hiddenFor: number;
}

/** What the next create does instead of answering normally. */
export type CreateFault =
  /**
   * The response was lost: the outcome is unknown; `minted` says whether Atlas minted, and
   * `hiddenFor` for how many list calls its list then leaves the new serial out.
   */
  | { kind: 'unknown'; minted: boolean; hiddenFor?: number }
  /** Atlas minted and answered 2xx with a body that is no PEM bundle. */
  | { kind: 'garbage' }
  /** Atlas minted, but its list leaves the new serial out for the next `lists` list calls. */
  | { kind: 'unlisted'; lists: number };

export const createOutcomeUnknown = (): CreateOutcomeUnknownError =>
  new CreateOutcomeUnknownError('POST certs: the outcome is unknown (socket hang up)', {
    code: 'CREATE_OUTCOME_UNKNOWN',
    remedy: 'list the certificates again and compare serial numbers before creating another',
  });

const userKey = (projectId: string, username: string): string => `${projectId}/${username}`;

/**
 * Atlas in memory, faithful to its semantics (backdated notBefore, list lag, refusals before
 * minting), with hooks to inject faults.
 */
export class FakeAtlas implements AtlasPort {
  readonly calls = new Calls<AtlasPort>();
  /** Certificates minted by `createCertificate`, in order. */
  readonly created: FakeCertificate[] = [];
  /** The `startBy` each create was given, in order. */
  readonly startBys: (number | undefined)[] = [];
  private readonly certs = new Map<string, FakeCertificate[]>();
  private readonly users = new Map<string, AtlasDatabaseUser[]>();
  private readonly createFaults: CreateFault[] = [];
  private readonly customerCas = new Map<string, { readable: boolean }>();
  private readonly cas = new Map<string, Promise<ProjectCa>>();
  private nextKey = 0;

  constructor(
    private readonly clock: FakeClock,
    private readonly pki: TestPki,
  ) {}

  async listCertificates(projectId: string, username: string): Promise<AtlasCertificate[]> {
    await this.calls.enter('listCertificates', [projectId, username]);
    const now = this.clock.now();
    const visible: AtlasCertificate[] = [];
    for (const cert of this.certificates(projectId, username)) {
      if (cert.notAfter <= now) continue;
      if (cert.hiddenFor > 0) {
        cert.hiddenFor -= 1;
        continue;
      }
      const { serialNumber, createdAt, notAfter, subject, groupId } = cert;
      visible.push({ serialNumber, createdAt: new Date(createdAt), notAfter, subject, groupId });
    }
    return visible;
  }

  async createCertificate(
    projectId: string,
    username: string,
    months: number,
    options: CreateOptions = {},
  ): Promise<string> {
    await this.calls.enter('createCertificate', [projectId, username, months]);
    this.startBys.push(options.startBy);
    this.refuseLikeAtlas(projectId, username);
    const fault = this.createFaults.shift();
    const start = truncateToSeconds(this.clock.now());
    // Atlas backdates notBefore by an hour and lists it as createdAt.
    const dates = {
      notBefore: new Date(start.getTime() - HOUR_MS),
      notAfter: addCalendarMonths(start, months),
    };
    if (fault?.kind === 'unknown') {
      if (fault.minted) {
        const hiddenFor = fault.hiddenFor ?? 0;
        this.created.push(await this.seed(projectId, username, dates, { hiddenFor }));
      }
      throw createOutcomeUnknown();
    }
    const hidden = fault?.kind === 'unlisted' ? fault.lists : 0;
    const cert = await this.seed(projectId, username, dates, { hiddenFor: hidden });
    this.created.push(cert);
    return fault?.kind === 'garbage'
      ? '<html><body>502 Bad Gateway</body></html>\n'
      : cert.minted.pem;
  }

  async listDatabaseUsers(projectId: string): Promise<AtlasDatabaseUser[]> {
    await this.calls.enter('listDatabaseUsers', [projectId]);
    return [...(this.users.get(projectId) ?? [])];
  }

  async customerCaConfigured(projectId: string): Promise<boolean | undefined> {
    await this.calls.enter('customerCaConfigured', [projectId]);
    const ca = this.customerCas.get(projectId);
    return ca && !ca.readable ? undefined : ca !== undefined;
  }

  /** A customer CA on the project: creates are refused; `readable: false` as for a 403 on it. */
  setCustomerCa(projectId: string, options: { readable?: boolean } = {}): this {
    this.customerCas.set(projectId, { readable: options.readable ?? true });
    return this;
  }

  /** Atlas's refusals before minting (a user it lists as not MANAGED, a customer CA). */
  private refuseLikeAtlas(projectId: string, username: string): void {
    const user = this.users.get(projectId)?.find((u) => u.username === username);
    const refusal =
      user && user.x509Type !== 'MANAGED'
        ? 'USER_NOT_MANAGED_X509'
        : this.customerCas.has(projectId)
          ? 'CANNOT_GENERATE_CERT_IF_ADVANCED_X509'
          : undefined;
    if (refusal) {
      throw new RotatorError(`Atlas POST certs failed: 400 ${refusal}`, {
        code: refusal,
        remedy: 'as Atlas says',
      });
    }
  }

  /** Queues what the next create does (one fault per create). */
  nextCreate(...faults: CreateFault[]): this {
    this.createFaults.push(...faults);
    return this;
  }

  addUser(
    projectId: string,
    username: string,
    x509Type: AtlasDatabaseUser['x509Type'] = 'MANAGED',
  ): this {
    const users = this.users.get(projectId) ?? [];
    users.push({ username, databaseName: '$external', x509Type, groupId: projectId });
    this.users.set(projectId, users);
    return this;
  }

  /**
   * Mints a real certificate with the given dates; Atlas lists it unless `recorded` is false
   * (a certificate Atlas does not know, e.g. of a deleted user).
   */
  async seed(
    projectId: string,
    username: string,
    dates: CertDates,
    options: { recorded?: boolean; hiddenFor?: number; commonName?: string } = {},
  ): Promise<FakeCertificate> {
    const keys = this.pki.keys[this.nextKey++ % this.pki.keys.length] as RsaKeyPair;
    const minted = await mintCertificate({
      ca: await this.caFor(projectId),
      commonName: options.commonName ?? username,
      keys,
      serial: randomSerial(),
      ...dates,
    });
    const cert: FakeCertificate = {
      serialNumber: minted.serialNumber,
      createdAt: dates.notBefore,
      notAfter: dates.notAfter,
      subject: subjectFor(username),
      groupId: projectId,
      minted,
      hiddenFor: options.hiddenFor ?? 0,
    };
    if (options.recorded !== false) {
      const key = userKey(projectId, username);
      this.certs.set(key, [...(this.certs.get(key) ?? []), cert]);
    }
    return cert;
  }

  /**
   * Lists an already minted certificate for another user as well, without minting: a cheap
   * population for tests of what many steady-state users cost (nothing validates it then).
   */
  alsoList(projectId: string, username: string, cert: FakeCertificate): void {
    const key = userKey(projectId, username);
    this.certs.set(key, [
      ...(this.certs.get(key) ?? []),
      { ...cert, subject: subjectFor(username) },
    ]);
  }

  /** Every recorded certificate of a user, expired and hidden ones included. */
  certificates(projectId: string, username: string): FakeCertificate[] {
    return this.certs.get(userKey(projectId, username)) ?? [];
  }

  private caFor(projectId: string): Promise<ProjectCa> {
    let ca = this.cas.get(projectId);
    if (!ca) {
      ca = createProjectCa(this.pki.keys[0] as RsaKeyPair, this.clock.now());
      this.cas.set(projectId, ca);
    }
    return ca;
  }
}
