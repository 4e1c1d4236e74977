// Types of crds.mjs (installs the sandbox's router CRDs), for the TypeScript tests.
import type { KubeConfig } from '@kubernetes/client-node';

export const crdDir: string;
export const GATEWAY_API_VERSION: string;
/** Where test/bed/install-gateway-api.sh put the Gateway API standard CRDs. */
export function gatewayApiCrdDir(): string;
/** The CustomResourceDefinition manifests the sandbox installs (Gateway API's bundle, test/bed/crds), parsed. */
// biome-ignore lint/suspicious/noExplicitAny: plain parsed YAML, checked by the tests
export function loadCrds(dirs?: string[]): any[];
/** Server-side applies every CRD and waits until each is Established; resolves their names. */
export function installCrds(
  kc: KubeConfig,
  options?: { timeoutMs?: number; log?: (line: string) => void },
): Promise<string[]>;
