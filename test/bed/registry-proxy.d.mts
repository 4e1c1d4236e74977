export interface RegistryProxy {
  /** host:port of the proxy. */
  url: string;
  close(): Promise<void>;
  stats(): {
    uploadedBytes: number;
    manifestBytes: number;
    requests: Record<string, number>;
    faultsInjected: number;
    /** When each injected fault happened (ms since epoch). */
    faultTimes: number[];
  };
}
export function startRegistryProxy(options: {
  target: string;
  port?: number;
  host?: string;
}): Promise<RegistryProxy>;
