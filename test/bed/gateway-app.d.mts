// Types of gateway-app.mjs (the real-data-plane app), for the TypeScript tests.
export function gatewayAppDocs(options: {
  host: string;
  gateway?: { namespace: string; name: string };
  errorRate?: number;
  latencyMs?: number;
  replicas?: number;
  sectionName?: string;
  router?: 'gateway-api' | 'nginx';
  ingressClass?: string;
}): object[];
export const PROXY_CANARY_SERVICE: string;
export function proxyErrorRateQuery(window?: string): string;
