export interface RegistryProxy {
  /** host:port of the proxy. */
  url: string;
  close(): Promise<void>;
  stats(): {
    uploadedBytes: number;
    manifestBytes: number;
    requests: Record<string, number>;
    faultsInjected: number;
  };
}
export function startRegistryProxy(options: {
  target: string;
  port?: number;
  host?: string;
}): Promise<RegistryProxy>;
