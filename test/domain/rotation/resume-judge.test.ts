import { beforeAll, describe, expect, it } from 'vitest';
import type { UserSettings } from '../../../functions/domain/config/types.js';
import { HOUR_MS } from '../../../functions/domain/renewal.js';
import { judgePending, type PendingJudgement } from '../../../functions/domain/rotation/resume.js';
import { serializeStored, versionIdFor } from '../../../functions/domain/stored-value.js';
import {
  addCalendarMonths,
  createProjectCa,
  generateRsaKeyPair,
  type MintedCertificate,
  mintCertificate,
  type ProjectCa,
  type RsaKeyPair,
  randomSerial,
} from '../../../tools/simulator/pki.js';

// The pending certificate was minted at `mintedAt`; Atlas backdates notBefore by an hour.
const mintedAt = new Date('2026-08-10T03:06:35Z');
const grace = HOUR_MS;
const user: UserSettings = {
  projectId: '5e2211c17a3e5a48f5497de3',
  username: 'app1',
  monthsUntilExpiration: 3,
  renewBeforeDays: undefined,
  secretName: 'atlas-x509/5e2211c17a3e5a48f5497de3/app1',
  enabled: true,
  kmsKeyId: undefined,
};
const later = (ms: number) => new Date(mintedAt.getTime() + ms);

let ca: ProjectCa;
let keys: RsaKeyPair;
/** The good pending certificate, one for another CN, and one with another key. */
let good: MintedCertificate;
let otherCn: MintedCertificate;
let otherKey: MintedCertificate;

const mint = (commonName: string, withKeys: RsaKeyPair) =>
  mintCertificate({
    ca,
    commonName,
    keys: withKeys,
    serial: randomSerial(),
    notBefore: new Date(mintedAt.getTime() - HOUR_MS),
    notAfter: addCalendarMonths(mintedAt, 3),
  });

beforeAll(async () => {
  // Two key generations only: the CA's key doubles as "some other key".
  const [caKeys, userKeys] = await Promise.all([
    generateRsaKeyPair(2048),
    generateRsaKeyPair(2048),
  ]);
  keys = userKeys;
  ca = await createProjectCa(caKeys, mintedAt);
  [good, otherCn, otherKey] = await Promise.all([
    mint('app1', keys),
    mint('app2', keys),
    mint('app1', caKeys),
  ]);
});

interface Case {
  name: string;
  /** The pending version's SecretString; built after the certificates exist. */
  text: () => string | undefined;
  versionId?: () => string;
  listed?: () => string[];
  now?: Date;
  want: PendingJudgement['kind'];
  problem?: RegExp;
}

const stored = (cert: MintedCertificate, owner = user) => serializeStored(owner, cert);
const withPem = (pem: () => string) => () =>
  JSON.stringify({ ...JSON.parse(stored(good)), pem: pem() });

const judge = (c: Case): PendingJudgement =>
  judgePending({
    text: c.text(),
    user,
    pendingVersionId: c.versionId?.() ?? versionIdFor(good.serialNumber),
    listedSerials: c.listed?.() ?? [],
    now: c.now ?? later(10 * 60_000),
    listLagGraceMs: grace,
  });

describe('resume: judgePending', () => {
  it.each<Case>([
    // Not a value this rotator wrote for this user: another tool's, never dropped.
    {
      name: 'no SecretString',
      text: () => undefined,
      want: 'foreign',
      problem: /the pending version has no SecretString/,
    },
    {
      name: 'garbage text',
      text: () => 'not json {',
      want: 'foreign',
      problem: /the pending value is not JSON/,
    },
    {
      name: 'foreign JSON',
      text: () => JSON.stringify({ username: 'app1', password: 'x' }),
      want: 'foreign',
      problem: /not a certificate written by this rotator/,
    },
    {
      name: 'another user’s value',
      text: () => stored(good, { ...user, username: 'app2' }),
      want: 'foreign',
      problem: /holds the certificate of 5e2211c17a3e5a48f5497de3:app2/,
    },
    {
      name: 'another project’s value',
      text: () => stored(good, { ...user, projectId: 'aaaaaaaaaaaaaaaaaaaaaaaa' }),
      want: 'foreign',
      problem: /holds the certificate of aaaaaaaaaaaaaaaaaaaaaaaa:app1/,
    },
    // Ours in shape, but the bundle fails validation.
    {
      name: 'a certificate for another CN',
      text: withPem(() => otherCn.pem),
      want: 'abandon',
      problem: /subject is not CN=<app1>/,
    },
    {
      name: 'a key that does not match',
      text: withPem(() => good.certificate + otherKey.privateKey),
      want: 'abandon',
      problem: /private key does not match/,
    },
    {
      name: 'no PEM blocks',
      text: withPem(() => ''),
      want: 'abandon',
      problem: /expected exactly one certificate block, found 0/,
    },
    {
      name: 'inside its renewal window',
      text: () => stored(good),
      listed: () => [good.serialNumber],
      now: later(80 * 24 * HOUR_MS),
      want: 'abandon',
      problem: /already inside its renewal window/,
    },
    // A valid bundle.
    {
      name: 'a version id for another serial',
      text: () => stored(good),
      versionId: () => versionIdFor(otherCn.serialNumber),
      listed: () => [good.serialNumber],
      want: 'abandon',
      problem: /^its version id does not match its serial$/,
    },
    {
      name: 'listed by Atlas',
      text: () => stored(good),
      listed: () => [good.serialNumber],
      want: 'promote',
    },
    {
      name: 'listed by Atlas long after the grace',
      text: () => stored(good),
      listed: () => ['1', good.serialNumber],
      now: later(30 * 24 * HOUR_MS),
      want: 'promote',
    },
    {
      name: 'unlisted and young',
      text: () => stored(good),
      listed: () => [otherKey.serialNumber],
      want: 'wait',
    },
    {
      name: 'unlisted, at the grace’s end',
      text: () => stored(good),
      now: later(grace),
      want: 'wait',
    },
    {
      name: 'unlisted, past the grace',
      text: () => stored(good),
      now: later(grace + 1000),
      want: 'abandon',
      problem: /^Atlas does not list its serial$/,
    },
  ])('$name → $want', (c) => {
    const judged = judge(c);
    expect(judged.kind).toBe(c.want);
    if (judged.kind === 'abandon' || judged.kind === 'foreign') {
      expect(judged.problem).toMatch(c.problem ?? /^$/);
    } else {
      expect(c.problem).toBeUndefined();
      expect(judged.cert.serialNumber).toBe(good.serialNumber);
      expect(judged.cert.pem).toBe(good.pem);
      expect(judged.cert.notAfter).toEqual(good.notAfter);
    }
  });

  it('never echoes key material in a problem', () => {
    const judged = judge({
      name: 'mismatch',
      text: withPem(() => good.certificate + otherKey.privateKey),
      want: 'abandon',
    });
    expect(judged.kind).toBe('abandon');
    const body = otherKey.privateKey.split('\n')[1] ?? 'missing';
    expect(JSON.stringify(judged)).not.toContain(body);
  });
});
