/** Labels and names Gantry puts on what it creates; the sandbox's traffic simulator reads the same ones. */
export const TRACK_LABEL = 'gantry.dev/track';
export const ROLLOUT_LABEL = 'gantry.dev/rollout';
/**
 * The run that created the new version's pods (canary, preview), so that analysis queries can tell one
 * rollout's canary from the previous one's (`{{run}}`); also on the Events of a run. Never on the stable
 * Deployment's pods: promotion changes the stable pod template exactly as the manifests say.
 */
export const RUN_LABEL = 'gantry.dev/run-id';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'gantry' } as const;

export type Track = 'stable' | 'canary' | 'preview';

export const canaryName = (name: string) => `${name}-canary`;
export const previewName = (name: string) => `${name}-preview`;

/**
 * A run id as a label value (at most 63 of `A-Za-z0-9_.-`, alphanumeric at both ends). Run ids end with random
 * hex, so a long one keeps its end: two runs never share a value.
 */
export function runLabelValue(runId: string): string {
  const safe = runId.replace(/[^A-Za-z0-9_.-]/g, '-');
  return safe.slice(-63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '') || 'run';
}

export function deploymentsPath(namespace: string): string {
  return `/apis/apps/v1/namespaces/${namespace}/deployments`;
}

export function servicesPath(namespace: string): string {
  return `/api/v1/namespaces/${namespace}/services`;
}
