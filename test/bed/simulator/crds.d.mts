// Types of crds.mjs (installs the sandbox's router CRDs), for the TypeScript tests.
import type { KubeConfig } from '@kubernetes/client-node';

export const crdDir: string;
/** The CustomResourceDefinition manifests in test/bed/crds, parsed. */
// biome-ignore lint/suspicious/noExplicitAny: plain parsed YAML, checked by the tests
export function loadCrds(dir?: string): any[];
/** Server-side applies every CRD and waits until each is Established; resolves their names. */
export function installCrds(
  kc: KubeConfig,
  options?: { timeoutMs?: number; log?: (line: string) => void },
): Promise<string[]>;
