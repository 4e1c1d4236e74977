/** A git remote URL reduced to what labels and logs may show: a web URL and a repository path. */
export interface RemoteLocation {
  /** `https://host/owner/name`: no credentials, no `.git`, no SSH port. Undefined for local paths. */
  webUrl?: string;
  /** `owner/name` (or `group/subgroup/name`). */
  repository: string;
}

/** `git@host:owner/name.git`, the scp-like syntax git accepts for SSH (a one-letter host is a Windows drive). */
const SCP_LIKE = /^(?:[^@/\s]+@)?([^:/\s]{2,}):(?!\/)(.+)$/;

/**
 * Parses a git remote URL (`https://`, `http://`, `ssh://`, `git://`, scp-like `git@host:path`) into a web URL
 * and repository path. Credentials embedded in the URL (`https://user:token@host/…`, common in Jenkins
 * `GIT_URL`) are always dropped, so the result is safe to put in a label. Returns undefined for anything that
 * is not a remote (a local path, `file://`, garbage).
 */
export function parseRemoteUrl(url: string | undefined): RemoteLocation | undefined {
  const text = url?.trim();
  if (!text) return undefined;
  const scp = SCP_LIKE.exec(text);
  if (scp && !text.includes('://')) return fromHostAndPath('https', scp[1]!, scp[2]!);
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return undefined;
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  if (!['https', 'http', 'ssh', 'git', 'git+ssh', 'ssh+git'].includes(scheme) || !parsed.hostname)
    return undefined;
  // The web UI listens on the default port of http(s), not on the SSH or git daemon port.
  const host = scheme === 'https' || scheme === 'http' ? parsed.host : parsed.hostname;
  return fromHostAndPath(scheme === 'http' ? 'http' : 'https', host, decodeURIComponent(parsed.pathname));
}

function fromHostAndPath(scheme: string, host: string, path: string): RemoteLocation | undefined {
  const repository = path
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
  if (!repository) return undefined;
  return { webUrl: `${scheme}://${host.toLowerCase()}/${repository}`, repository };
}

/** The last path segment of a repository path: `acme/shop` → `shop`. */
export function repositoryName(repository: string): string {
  return repository.split('/').filter(Boolean).at(-1) ?? repository;
}
