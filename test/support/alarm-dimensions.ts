import { METRICS_NAMESPACE } from '../../functions/domain/names.js';

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}
interface MetricShape {
  readonly Namespace?: unknown;
  readonly Dimensions?: readonly { Name: string; Value: unknown }[];
}

/**
 * The dimensions of every run metric a template's alarms read, one record per metric: a plain
 * alarm names its metric, a math alarm (DeferredNotShrinking) lists its inputs. CloudWatch
 * matches a metric by its whole dimension set, so these must equal what the function emits.
 */
export const alarmRunMetricDimensions = (
  resources: Readonly<Record<string, Resource>>,
): Record<string, unknown>[] =>
  Object.values(resources)
    .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
    .flatMap(({ Properties: p = {} }) => [
      p as MetricShape,
      ...((p.Metrics as { MetricStat?: { Metric: MetricShape } }[] | undefined) ?? []).map(
        (m) => m.MetricStat?.Metric,
      ),
    ])
    .filter((m): m is MetricShape => m?.Namespace === METRICS_NAMESPACE)
    .map((m) => Object.fromEntries((m.Dimensions ?? []).map((d) => [d.Name, d.Value])));
