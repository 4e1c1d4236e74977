/** The registry host[:port] of a reference (`docker.io` when the reference names none, as docker does). */
export function hostOf(ref: string): string {
  const first = ref.split('/')[0] ?? '';
  const hasHost = ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  return hasHost ? first : 'docker.io';
}

/**
 * Whether to skip TLS verification for a registry: listed by the user, or on loopback — docker treats
 * 127.0.0.0/8 and localhost registries as insecure by default, and so does Gantry.
 */
export function isInsecure(host: string, insecureRegistries: readonly string[]): boolean {
  if (insecureRegistries.includes(host)) return true;
  const name = host.replace(/:\d+$/, '');
  return name === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(name) || name === '[::1]';
}
