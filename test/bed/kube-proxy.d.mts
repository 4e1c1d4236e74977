export interface CountedRequest {
  /** When the request arrived (ms since epoch). */
  at: number;
  method: string;
  /** GET, LIST, WATCH, CREATE, UPDATE, PATCH, DELETE, DISCOVERY. */
  verb: string;
  path: string;
  namespace?: string;
  resource: string;
  status: number;
}
export interface KubeProxy {
  url: string;
  /** A kubeconfig that reaches the API server through the proxy. */
  kubeconfig: string;
  requests: CountedRequest[];
  close(): Promise<void>;
}
export function verbOf(method: string, url: string): string;
export function resourceOf(pathname: string): { resource: string; named: boolean; subresource?: string };
export function namespaceOf(pathname: string): string | undefined;
export function startKubeProxy(options: {
  kubeconfig: string;
  host?: string;
  port?: number;
}): Promise<KubeProxy>;
