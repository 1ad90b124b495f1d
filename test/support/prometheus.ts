/*
 * Reading the Prometheus text exposition of GET /metrics.
 */

/** One sample of the Prometheus text: its labels and value. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Samples of the metric called exactly `name` (no suffix matching). */
export function samples(text: string, name: string): Sample[] {
  const found: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) {
      labels[pair[1]] = pair[2];
    }
    found.push({ labels, value: Number(match[3]) });
  }
  return found;
}

/**
 * The value of the first sample whose labels include `labels`, or
 * undefined when there is none.
 *
 * @example metricValue(text, 'maxconf_pool_rooms', { state: 'available' })
 */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples(text, name).find((sample) =>
    Object.entries(labels).every(
      ([key, value]) => sample.labels[key] === value,
    ),
  )?.value;
}

/** The sum of every sample of a metric, whatever its labels. */
export function metricTotal(text: string, name: string): number {
  return samples(text, name).reduce((sum, sample) => sum + sample.value, 0);
}
