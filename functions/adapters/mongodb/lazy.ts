import { asError } from '../../domain/errors.js';
import type { LoginCheckPort } from '../../domain/rotation/ports.js';

/**
 * The login check, with the driver loaded on the first check: a run with `verify.uri` set but
 * nobody due (most runs) never loads it, and a run without one never gets here.
 */
export const lazyLoginCheck = (
  load: () => Promise<LoginCheckPort> = async () =>
    new (await import('./login-check.js')).MongoLoginCheck(),
): LoginCheckPort => {
  let loaded: Promise<LoginCheckPort> | undefined;
  return {
    check: async (request) => {
      loaded ??= load();
      let port: LoginCheckPort;
      try {
        port = await loaded;
      } catch (err) {
        const e = asError(err);
        return {
          ok: false,
          reason: `the mongodb driver could not be loaded: ${e.name}: ${e.message}`,
        };
      }
      return port.check(request);
    },
  };
};
