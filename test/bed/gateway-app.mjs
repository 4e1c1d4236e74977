// The app the real-data-plane tests and benchmark deploy: a Deployment whose pods the data plane answers for
// (label testbed.gantry.dev/responder), its Service, and an HTTPRoute on the sandbox's Gateway for one host (or
// an Ingress of the class Traefik's ingress-nginx provider serves); and the analysis query that judges a canary
// on the proxy's own counts.

/** The Deployment, Service and HTTPRoute of `web`, as plain objects (dump them as YAML). */
export function gatewayAppDocs({
  host,
  gateway = { namespace: 'gantry-gateway', name: 'gateway' },
  errorRate = 0,
  latencyMs = 2,
  replicas = 2,
  sectionName,
  router = 'gateway-api',
  ingressClass = 'gantry-nginx',
}) {
  const route =
    router === 'nginx'
      ? {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          metadata: { name: 'web' },
          spec: {
            ingressClassName: ingressClass,
            rules: [
              {
                host,
                http: {
                  paths: [
                    {
                      path: '/',
                      pathType: 'Prefix',
                      backend: { service: { name: 'web', port: { number: 80 } } },
                    },
                  ],
                },
              },
            ],
          },
        }
      : {
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'HTTPRoute',
          metadata: { name: 'web' },
          spec: {
            parentRefs: [{ ...gateway, ...(sectionName && { sectionName }) }],
            hostnames: [host],
            rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
          },
        };
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: {
            labels: { app: 'web', 'testbed.gantry.dev/responder': 'true' },
            annotations: {
              'testbed.gantry.dev/error-rate': String(errorRate),
              'testbed.gantry.dev/latency-ms': String(latencyMs),
            },
          },
          spec: {
            containers: [{ name: 'app', image: 'shop/web:placeholder', ports: [{ containerPort: 8080 }] }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    },
    route,
  ];
}

/**
 * The canary's Traefik service: Traefik names each HTTPRoute backend
 * `httproute-<ns>-<route>-gw-<gateway ns>-<gateway>-ep-<listener>-<rule>-<hash>-svc-<ns>-<Service>-<backendRef
 * index>@kubernetesgateway`, so the canary is matched by its route and Service names.
 */
export const PROXY_CANARY_SERVICE =
  'service=~"httproute-{{namespace}}-{{name}}-.+-svc-{{namespace}}-{{name}}-canary-[0-9]+@kubernetesgateway"';

/** The canary's share of 5xx answers at the proxy over `window` (Traefik's counts per service and code). */
export function proxyErrorRateQuery(window = '4s') {
  const canary = PROXY_CANARY_SERVICE;
  return (
    `(sum(rate(traefik_service_requests_total{${canary},code=~"5.."}[${window}])) or vector(0))` +
    ` / sum(rate(traefik_service_requests_total{${canary}}[${window}]))`
  );
}
