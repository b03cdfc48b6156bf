/**
 * The names the functions and `infra/` must agree on: the service, the metrics and the events.
 * Pure data, so `cdk synth` loads neither Powertools nor an AWS SDK for a few strings.
 */

export const SERVICE_NAME = 'atlas-x509-rotator';

export const METRICS_NAMESPACE = 'AtlasX509Rotator';

/**
 * The run metrics' second dimension: which deployment ran. Its value is the construct's
 * `namePrefix` (unique per account and Region, and the name of the deployment's alarms and
 * dashboard), set in the rotate function's environment under `DEPLOYMENT_ENV`. CloudWatch matches
 * a metric by its whole dimension set, so two deployments in one account and Region never alarm on
 * each other's runs: one's failure does not page the other, one's runs do not hide the other's
 * silence.
 */
export const DEPLOYMENT_DIMENSION = 'deployment';
export const DEPLOYMENT_ENV = 'ATLAS_X509_DEPLOYMENT';

/**
 * How long a user deferred with no certificate yet may wait for the catch-up chain before it
 * pages: the chain's `since` (the catch-up note, `catch-up.ts`) is when the first run of the chain
 * ended with users deferred, so no new state is needed. A day covers the default chain (24
 * catch-up runs 20 minutes apart, 8 hours) with room; a chain that ends, or runs longer, with
 * users still holding none pages through MinDaysToExpiry and DeferredCritical as before.
 */
export const NO_CERTIFICATE_GRACE_HOURS = 24;

/** The metrics of one run (EMF, namespace above, dimensions `service` and `deployment`). */
export interface RunMetrics {
  RotatedUsers: number;
  ResumedUsers: number;
  FailedUsers: number;
  DeferredUsers: number;
  /**
   * Deferred users known to hold no certificate (unless the catch-up chain will reach them,
   * `NO_CERTIFICATE_GRACE_HOURS`), or one expiring within `criticalDays`.
   */
  DeferredCritical: number;
  /**
   * Deferred users at risk: neither known far from renewal (`farFromRenewal`) nor certificate-less
   * users the catch-up chain will reach. What `DeferredNotShrinking` watches.
   */
  DeferredAtRisk: number;
  /** Deferred or failed users known to hold no certificate yet (a first deployment's backlog). */
  UsersWithoutCertificate: number;
  /** Orphans first reported by this run (each orphan counts once, in the run that found it). */
  Orphans: number;
  /** Every unexpired orphan the run's users have: a gauge. */
  StandingOrphans: number;
  /** Users whose create Atlas refused with ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED. */
  CertificateLimitReached: number;
  /** Secrets whose consumers' resource policy or rotator tags this run put back as configured. */
  DriftRepaired: number;
  /**
   * Certificates made current although their login check failed (`verify.uri`), because the
   * certificate they replace was within `criticalDays` of expiry. Absent when no check ran.
   */
  VerifyBypassed: number | undefined;
  /**
   * Smallest days-to-expiry of any covered user whose expiry is known; 0 for a failed or
   * deferred user known to hold no certificate (but a deferred one the catch-up chain will
   * reach). Users the run could not tell about are left out.
   */
  MinDaysToExpiry: number | undefined;
  /**
   * Secrets whose previous certificate expires within `staleConsumerDays` while nobody read
   * them after their promotion (`consumers: "stale"` rows): a gauge, from ListSecrets.
   */
  StaleConsumers: number;
  /** Days until the rotator's own service account secret expires, when known. */
  AtlasCredentialDaysToExpiry: number | undefined;
  /** 1 for a run the catch-up schedule started (`catch-up.ts`). */
  CatchUpRuns: 0 | 1;
  /** 1 when the run left users deferred and a catch-up run follows. */
  CatchUpPending: 0 | 1;
  RunCompleted: 1;
  /**
   * 1 for a run the run lock refused (another run at work): it did nothing, and leaves a catch-up
   * note, if catch-up runs are on, so the catch-up schedule does its work (`catch-up.ts`). 0 for a
   * run that went ahead.
   */
  RunNotStarted: 0 | 1;
}

export type MetricName = keyof RunMetrics;

export const EVENT_SOURCE = 'atlas-x509-rotator';

/**
 * The tag every certificate secret the rotator creates carries: IAM lets the rotator delete a
 * secret only when it carries it (an empty one it created, after Atlas refused the first mint).
 */
export const MANAGED_BY_TAG = 'atlas-x509-rotator:managed-by';
export const MANAGED_BY_VALUE = 'atlas-x509-rotator';

/** The Atlas project and the username a secret was created for (set once, at creation). */
export const PROJECT_ID_TAG = 'atlas-x509-rotator:project-id';
export const USERNAME_TAG = 'atlas-x509-rotator:username';
/** The Regions the secret is replicated to, and the version last seen in sync. */
export const REPLICAS_TAG = 'atlas-x509-rotator:replicas';
/** The held certificate's expiry, tagged so the next run can order users from ListSecrets. */
export const NOT_AFTER_TAG = 'atlas-x509-rotator:not-after';
/** When the rotator last promoted a version (written with the expiry tag). */
export const OWN_ACCESS_TAG = 'atlas-x509-rotator:own-access';
/** Orphan serials already reported, so a run counts only the orphans it is first to see. */
export const ORPHANS_TAG = 'atlas-x509-rotator:orphans';
/** The hash of the consumers' resource policy last put. */
export const POLICY_TAG = 'atlas-x509-rotator:policy';
/** The forced requests that stored a version of the secret (`domain/rotation/served.ts`). */
export const REQUESTS_TAG = 'atlas-x509-rotator:requests';

/** The tags CreateSecret sets: the only call that may set the managed-by tag (IAM holds it). */
export const CREATION_TAG_KEYS = [MANAGED_BY_TAG, PROJECT_ID_TAG, USERNAME_TAG, REPLICAS_TAG];
/** The tags TagResource may set on an existing secret: never the managed-by tag. */
export const UPKEEP_TAG_KEYS = [
  NOT_AFTER_TAG,
  OWN_ACCESS_TAG,
  ORPHANS_TAG,
  POLICY_TAG,
  REPLICAS_TAG,
  REQUESTS_TAG,
];

export type DetailType =
  | 'Atlas X509 Certificate Rotated'
  | 'Atlas X509 Rotation Failed'
  | 'Atlas X509 Certificate Approaching Expiry'
  | 'Atlas Customer X509 Disabled';
