/**
 * The names the functions and `infra/` must agree on: the service, the metrics and the events.
 * Pure data, so `cdk synth` loads neither Powertools nor an AWS SDK for a few strings.
 */

export const SERVICE_NAME = 'atlas-x509-rotator';

export const METRICS_NAMESPACE = 'AtlasX509Rotator';

/** The metrics of one run (EMF, namespace above, dimension `service`). */
export interface RunMetrics {
  RotatedUsers: number;
  ResumedUsers: number;
  FailedUsers: number;
  DeferredUsers: number;
  Orphans: number;
  /** Smallest days-to-expiry of any covered user; 0 for a user left with no certificate. */
  MinDaysToExpiry: number | undefined;
  /** Days until the rotator's own service account secret expires, when known. */
  AtlasCredentialDaysToExpiry: number | undefined;
  RunCompleted: 1;
}

export type MetricName = keyof RunMetrics;

export const EVENT_SOURCE = 'atlas-x509-rotator';

export type DetailType =
  | 'Atlas X509 Certificate Rotated'
  | 'Atlas X509 Rotation Failed'
  | 'Atlas X509 Certificate Approaching Expiry'
  | 'Atlas Customer X509 Disabled';
