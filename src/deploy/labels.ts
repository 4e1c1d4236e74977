/** Labels and names Gantry puts on what it creates; the sandbox's traffic simulator reads the same ones. */
export const TRACK_LABEL = 'gantry.dev/track';
export const ROLLOUT_LABEL = 'gantry.dev/rollout';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'gantry' } as const;

export type Track = 'stable' | 'canary' | 'preview';

export const canaryName = (name: string) => `${name}-canary`;
export const previewName = (name: string) => `${name}-preview`;

export function deploymentsPath(namespace: string): string {
  return `/apis/apps/v1/namespaces/${namespace}/deployments`;
}

export function servicesPath(namespace: string): string {
  return `/api/v1/namespaces/${namespace}/services`;
}
