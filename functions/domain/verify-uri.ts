import { z } from 'zod';

/**
 * The project's `verify.uri`: where a new certificate proves it can log in (MONGODB-X509, then
 * `ping`) before it becomes AWSCURRENT. The check brings the identity itself, so the URI must
 * not: no user or password, no other mechanism, no certificate of its own, and no option that
 * would let a check pass against a server it cannot trust. Problems name the option, never the
 * value (a URI pasted by mistake may hold a password).
 */

const MAX_URI_LENGTH = 2048;

/** `scheme://authority/path?query`; the authority holds comma-separated hosts (no URL parser takes them). */
const SHAPE = /^(mongodb(?:\+srv)?):\/\/([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/;

/** Options (lower-cased) the check sets itself, or that would carry a credential. */
const REFUSED: Readonly<Record<string, string>> = {
  authmechanismproperties: 'may carry credentials; the check authenticates with MONGODB-X509 only',
  tlscertificatekeyfile: 'the check presents the new certificate itself',
  tlscertificatekeyfilepassword: 'is a credential; the check presents the new certificate itself',
  tlscertificatefile: 'the check presents the new certificate itself',
  sslpemkeyfile: 'the check presents the new certificate itself',
  sslpemkeypassword: 'is a credential; the check presents the new certificate itself',
  sslcert: 'the check presents the new certificate itself',
  sslkey: 'the check presents the new certificate itself',
  proxypassword: 'is a credential; reach the cluster without a SOCKS proxy',
  proxyusername: 'is a credential; reach the cluster without a SOCKS proxy',
};

/** Options that must keep one value: what X.509 login needs, and TLS that checks the server. */
const REQUIRED: Readonly<Record<string, { value: string; why: string }>> = {
  authmechanism: { value: 'mongodb-x509', why: 'the check logs in with the certificate' },
  authsource: { value: '$external', why: 'X.509 users live in $external' },
  tls: { value: 'true', why: 'certificates are presented over TLS only' },
  ssl: { value: 'true', why: 'certificates are presented over TLS only' },
  tlsinsecure: { value: 'false', why: 'a check that trusts any server proves nothing' },
  tlsallowinvalidcertificates: {
    value: 'false',
    why: 'a check that trusts any server proves nothing',
  },
  tlsallowinvalidhostnames: {
    value: 'false',
    why: 'a check that trusts any server proves nothing',
  },
};

/** What is wrong with a verify URI, one line each; empty when it is usable. */
export const verifyUriProblems = (uri: string): string[] => {
  if (uri.length > MAX_URI_LENGTH) return [`must be at most ${MAX_URI_LENGTH} characters`];
  const shape = SHAPE.exec(uri);
  if (!shape) {
    return [
      'must be a mongodb+srv:// or mongodb:// connection string (as Atlas shows under Connect > Drivers)',
    ];
  }
  const [, scheme, authority = '', , query = ''] = shape;
  if (authority.includes('@')) {
    return [
      'must not contain credentials (user:password@): the check logs in with the new certificate',
    ];
  }
  const hosts = authority.split(',');
  if (hosts.some((h) => h.length === 0)) return ['must name at least one host, none empty'];
  if (scheme === 'mongodb+srv' && (hosts.length > 1 || authority.includes(':'))) {
    return ['mongodb+srv:// takes exactly one host name, without a port'];
  }
  const problems: string[] = [];
  for (const [name, value] of new URLSearchParams(query.slice(1))) {
    const key = name.toLowerCase();
    const refused = REFUSED[key];
    if (refused) problems.push(`option ${name}: not allowed here (${refused})`);
    const required = REQUIRED[key];
    if (required && value.toLowerCase() !== required.value) {
      problems.push(`option ${name}: must be ${required.value} if given (${required.why})`);
    }
  }
  return problems;
};

/** The `verify.uri` field: its problems are the config's issues at that path. */
export const verifyUri = z
  .string()
  .superRefine((uri, ctx) => {
    for (const message of verifyUriProblems(uri)) ctx.addIssue({ code: 'custom', message });
  })
  .describe(
    'Connection string of a cluster of this project (mongodb+srv:// or mongodb://), without credentials: each new certificate logs in with MONGODB-X509 and runs ping before it becomes AWSCURRENT. Options such as tlsCAFile are passed to the driver.',
  );

export interface VerifySettings {
  uri: string;
}
