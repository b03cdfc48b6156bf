import type { RecordedRequest } from '../../test/simulator/atlas-simulator.js';
import type { Latencies } from './options.js';

/**
 * What one run asked of Atlas, from the simulator's request log: requests by kind, the ones the
 * token bucket charged for, and the latency of one user's request chain.
 */
export interface AtlasTraffic {
  /** GET `.../databaseUsers/{user}/certs`, answered (not 429). */
  list: number;
  /** POST `.../databaseUsers/{user}/certs`, answered (not 429). */
  create: number;
  /** GET `.../databaseUsers` (discovery paging), answered. */
  discovery: number;
  /** Any other Admin API request, answered (e.g. the service account's expiry). */
  otherApi: number;
  /** POST `/api/oauth/token`. */
  tokenRequests: number;
  /** 401s carrying a Digest challenge (Digest auth only). */
  challenges: number;
  /** 429s the bucket answered. */
  throttled: number;
  /** Admin API requests that took a token from the bucket: authenticated and not refused. */
  charged: number;
  /** Median over users of their chain's server latency (challenges included, 429s not). */
  chainMs: number;
}

const CERTS = /^\/api\/atlas\/v2\/groups\/[^/]+\/databaseUsers\/[^/]+\/certs$/;
const USERS = /^\/api\/atlas\/v2\/groups\/[^/]+\/databaseUsers$/;
const API = '/api/atlas/v2/';
const TOKEN = '/api/oauth/token';

const median = (values: number[]): number => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

/** The simulator's latency for a request (it sleeps the same before any answer, 401 included). */
const latencyOf = (r: RecordedRequest, latency: Latencies): number => {
  if (CERTS.test(r.path)) return r.method === 'POST' ? latency.createMs : latency.listMs;
  if (USERS.test(r.path) && r.method === 'GET') return latency.listMs;
  return latency.otherMs;
};

export const atlasTraffic = (
  requests: readonly RecordedRequest[],
  latency: Latencies,
  usesToken: boolean,
): AtlasTraffic => {
  const t: AtlasTraffic = {
    list: 0,
    create: 0,
    discovery: 0,
    otherApi: 0,
    tokenRequests: 0,
    challenges: 0,
    throttled: 0,
    charged: 0,
    chainMs: 0,
  };
  const chains = new Map<string, number>();
  for (const r of requests) {
    if (r.path === TOKEN) {
      t.tokenRequests += 1;
      continue;
    }
    if (!r.path.startsWith(API)) continue;
    if (r.status === 429) {
      t.throttled += 1;
      continue;
    }
    if (r.auth === 'none') {
      if (r.status === 401) t.challenges += 1;
    } else {
      t.charged += 1;
      if (CERTS.test(r.path)) {
        if (r.method === 'POST') t.create += 1;
        else t.list += 1;
      } else if (USERS.test(r.path)) t.discovery += 1;
      else t.otherApi += 1;
    }
    // A user's chain: every answered request on its certs path, a Digest challenge included.
    if (CERTS.test(r.path)) chains.set(r.path, (chains.get(r.path) ?? 0) + latencyOf(r, latency));
  }
  // One token fetch precedes the first request of every chain that needs it.
  t.chainMs = median([...chains.values()]) + (usesToken ? latency.otherMs : 0);
  return t;
};

/**
 * The fastest any client could finish this run's requests, whatever its concurrency: one user's
 * request chain cannot be shortened, and the bucket starts full (`capacity`) then hands out
 * `refillPerSecond` tokens a second.
 */
export const lowerBoundS = (
  charged: number,
  chainMs: number,
  bucket: { capacity: number; refillPerSecond: number },
): number => Math.max(chainMs / 1000, (charged - bucket.capacity) / bucket.refillPerSecond);
