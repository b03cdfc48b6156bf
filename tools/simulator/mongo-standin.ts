/**
 * A stand-in for an Atlas cluster node, speaking just enough of the MongoDB wire protocol over
 * TLS for a driver to log in with MONGODB-X509 and run `ping`: the legacy OP_QUERY handshake
 * (OP_REPLY answers) and OP_MSG (opcode 2013) after it, BSON via the `bson` package.
 *
 * Like an Atlas cluster of one project it trusts one CA for client certificates (the project's
 * Atlas CA: a certificate from any other CA fails the TLS handshake) and knows the project's
 * X.509 users: a certificate authenticates only when its subject is exactly `CN=<a user>`
 * (`UserNotFound` otherwise, as mongod answers). Its own server certificate comes from a CA of
 * its own, written to `caFile` for the driver's `tlsCAFile`.
 */
// tsyringe (used by @peculiar/x509) refuses to load without Reflect metadata: keep this first.
import './reflect-metadata-shim.js';

import { webcrypto } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import * as x509 from '@peculiar/x509';
import { type Document, deserialize, serialize } from 'bson';
import { randomSerial, toPem } from './pki.js';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;

/** One authentication attempt, as the stand-in saw it. */
export interface LoginAttempt {
  /** Decimal serial of the presented certificate, when the handshake got that far. */
  serialNumber: string | undefined;
  ok: boolean;
  /** Why it was refused. */
  reason?: string;
}

export interface MongoStandInOptions {
  /** PEM of the CA whose client certificates it accepts: the project's Atlas CA. */
  clientCa: string;
  /** The project's X.509 users: whom a `CN=<username>` subject may name. */
  users: Iterable<string>;
}

const crypto = webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.create>[1];
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

const serialHex = (): string => {
  const hex = randomSerial().toString(16);
  return hex.length % 2 === 0 ? hex : `0${hex}`;
};

/** A CA and a server certificate for localhost/127.0.0.1 (ECDSA: generated in milliseconds). */
const serverIdentity = async () => {
  const caKeys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const now = Date.now();
  const validity = { notBefore: new Date(now - 3_600_000), notAfter: new Date(now + 86_400_000) };
  const caName = 'CN=mongo stand-in test CA';
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialHex(),
      name: caName,
      ...validity,
      keys: caKeys,
      signingAlgorithm: EC,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
      ],
    },
    crypto,
  );
  const leaf = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialHex(),
      subject: 'CN=localhost',
      issuer: caName,
      ...validity,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: EC,
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension([
          { type: 'dns', value: 'localhost' },
          { type: 'ip', value: '127.0.0.1' },
        ]),
      ],
    },
    crypto,
  );
  return {
    caPem: toPem('CERTIFICATE', ca.rawData),
    cert: toPem('CERTIFICATE', leaf.rawData),
    key: toPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
  };
};

const header = (length: number, requestId: number, responseTo: number, opCode: number) => {
  const b = Buffer.alloc(16);
  b.writeInt32LE(length, 0);
  b.writeInt32LE(requestId, 4);
  b.writeInt32LE(responseTo, 8);
  b.writeInt32LE(opCode, 12);
  return b;
};

/** The command document of an OP_QUERY or OP_MSG message body; undefined for anything else. */
const commandOf = (opCode: number, body: Buffer): Document | undefined => {
  if (opCode === OP_QUERY) {
    const nameEnd = body.indexOf(0, 4);
    const docStart = nameEnd + 1 + 8;
    const size = body.readInt32LE(docStart);
    return deserialize(body.subarray(docStart, docStart + size));
  }
  if (opCode === OP_MSG) {
    // Section kind 0 holds the command; kind 1 sequences (bulk writes) never come here.
    let at = 4;
    while (at < body.length) {
      const kind = body[at];
      at += 1;
      const size = body.readInt32LE(at);
      if (kind === 0) return deserialize(body.subarray(at, at + size));
      at += size;
    }
  }
  return undefined;
};

const reply = (opCode: number, requestId: number, responseTo: number, doc: Document): Buffer => {
  const bson = Buffer.from(serialize(doc));
  if (opCode === OP_QUERY) {
    const prefix = Buffer.alloc(20); // responseFlags, cursorID, startingFrom, numberReturned
    prefix.writeInt32LE(1, 16);
    return Buffer.concat([
      header(16 + 20 + bson.length, requestId, responseTo, OP_REPLY),
      prefix,
      bson,
    ]);
  }
  const flags = Buffer.from([0, 0, 0, 0, 0]); // flagBits, then section kind 0
  return Buffer.concat([
    header(16 + flags.length + bson.length, requestId, responseTo, OP_MSG),
    flags,
    bson,
  ]);
};

export class MongoStandIn {
  /** Every authentication attempt, in order. */
  readonly logins: LoginAttempt[] = [];
  /** `ping` commands answered on an authenticated connection. */
  pings = 0;
  private nextId = 1;
  private readonly users: Set<string>;
  private readonly sockets = new Set<TLSSocket>();

  private constructor(
    private readonly server: Server,
    private readonly dir: string,
    /** The stand-in's server CA, for the driver's `tlsCAFile`. */
    readonly caFile: string,
    options: MongoStandInOptions,
  ) {
    this.users = new Set(options.users);
  }

  static async start(options: MongoStandInOptions): Promise<MongoStandIn> {
    const identity = await serverIdentity();
    const dir = await mkdtemp(join(tmpdir(), 'mongo-standin-'));
    const caFile = join(dir, 'server-ca.pem');
    await writeFile(caFile, identity.caPem);
    const server = createServer({
      cert: identity.cert,
      key: identity.key,
      ca: options.clientCa,
      requestCert: true,
      // As an Atlas cluster: a certificate the project's CA did not sign fails the handshake.
      rejectUnauthorized: true,
    });
    const standIn = new MongoStandIn(server, dir, caFile, options);
    server.on('secureConnection', (socket) => standIn.serve(socket));
    server.on('tlsClientError', (err) => {
      standIn.logins.push({ serialNumber: undefined, ok: false, reason: err.message });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return standIn;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** A `verify.uri` for this stand-in: no credentials, its CA as the driver's trust. */
  get uri(): string {
    return `mongodb://localhost:${this.port}/?directConnection=true&tls=true&tlsCAFile=${encodeURIComponent(this.caFile)}`;
  }

  /** Serials that logged in, in order. */
  get accepted(): string[] {
    return this.logins.filter((l) => l.ok).flatMap((l) => l.serialNumber ?? []);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    await rm(this.dir, { recursive: true, force: true });
  }

  private serve(socket: TLSSocket): void {
    socket.on('error', () => undefined);
    // Connections a driver left open must not keep the server from closing.
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    const state = { authenticated: false, pending: Buffer.alloc(0) };
    socket.on('data', (chunk: Buffer) => {
      state.pending = Buffer.concat([state.pending, chunk]);
      while (state.pending.length >= 16) {
        const length = state.pending.readInt32LE(0);
        if (state.pending.length < length) break;
        const message = state.pending.subarray(0, length);
        state.pending = state.pending.subarray(length);
        const requestId = message.readInt32LE(4);
        const opCode = message.readInt32LE(12);
        const command = commandOf(opCode, message.subarray(16));
        const answer = command
          ? this.answer(socket, state, command)
          : { ok: 0, errmsg: `opcode ${opCode} is not spoken here`, code: 2 };
        socket.write(reply(opCode, this.nextId++, requestId, answer));
      }
    });
    socket.on('end', () => socket.end());
  }

  /** MONGODB-X509: the subject must be exactly CN=<a known user>. */
  private authenticate(
    socket: TLSSocket,
    command: Document,
  ): { answer: Document; attempt: LoginAttempt } {
    const peer = socket.getPeerCertificate();
    const serialNumber = peer.serialNumber
      ? BigInt(`0x${peer.serialNumber}`).toString(10)
      : undefined;
    const subject = peer.subject ?? {};
    const names = Object.keys(subject);
    const cn = subject.CN;
    const user = typeof cn === 'string' && names.length === 1 ? cn : undefined;
    const dn = user === undefined ? names.map((n) => `${n}=…`).join(',') : `CN=${user}`;
    const refused = (reason: string) => ({
      answer: { ok: 0, errmsg: reason, code: 18, codeName: 'AuthenticationFailed' },
      attempt: { serialNumber, ok: false, reason },
    });
    if (command.mechanism !== 'MONGODB-X509') {
      return refused(`mechanism ${String(command.mechanism)} is not supported`);
    }
    if (command.user !== undefined && command.user !== dn) {
      return refused(`user ${String(command.user)} is not the certificate's`);
    }
    if (user === undefined || !this.users.has(user)) {
      return {
        answer: {
          ok: 0,
          errmsg: `Could not find user "${dn}" for db "$external"`,
          code: 11,
          codeName: 'UserNotFound',
        },
        attempt: { serialNumber, ok: false, reason: 'UserNotFound' },
      };
    }
    return {
      answer: { ok: 1, dbname: '$external', user: dn },
      attempt: { serialNumber, ok: true },
    };
  }

  private answer(
    socket: TLSSocket,
    state: { authenticated: boolean },
    command: Document,
  ): Document {
    const name = Object.keys(command)[0]?.toLowerCase();
    if (name === 'hello' || name === 'ismaster') {
      const hello: Document = {
        helloOk: true,
        isWritablePrimary: true,
        ismaster: true,
        maxBsonObjectSize: 16 * 1024 * 1024,
        maxMessageSizeBytes: 48_000_000,
        maxWriteBatchSize: 100_000,
        localTime: new Date(),
        logicalSessionTimeoutMinutes: 30,
        connectionId: this.nextId,
        minWireVersion: 0,
        maxWireVersion: 21,
        readOnly: false,
        ok: 1,
      };
      const speculative = command.speculativeAuthenticate as Document | undefined;
      if (speculative) {
        const { answer, attempt } = this.authenticate(socket, speculative);
        // A refused speculative attempt goes unanswered and unrecorded: the driver then sends
        // `authenticate`, whose refusal it reports.
        if (attempt.ok) {
          this.logins.push(attempt);
          state.authenticated = true;
          hello.speculativeAuthenticate = { dbname: answer.dbname, user: answer.user };
        }
      }
      return hello;
    }
    if (name === 'authenticate') {
      const { answer, attempt } = this.authenticate(socket, command);
      this.logins.push(attempt);
      if (attempt.ok) state.authenticated = true;
      return answer;
    }
    if (name === 'ping') {
      if (state.authenticated) this.pings += 1;
      return { ok: 1 };
    }
    if (name === 'endsessions') return { ok: 1 };
    return { ok: 0, errmsg: `no such command: '${name}'`, code: 59, codeName: 'CommandNotFound' };
  }
}
