import { registryCredentials } from '../registry/auth.js';
import { isInsecure } from '../registry/hosts.js';
import { InfraError } from '../util/errors.js';
import { registerSecret } from '../util/secrets.js';
import { sha256 } from './bundle.js';

/**
 * A small client of the OCI distribution API (fetch, no tool): what signing needs and skopeo does not do —
 * manifests by digest with their exact bytes, blobs, the referrers API and tag lists. Credentials come from the
 * same sources as every other registry call (src/registry/auth.ts: docker config and helpers, CI variables,
 * GANTRY_REGISTRY_*), go in headers only, and are registered as secrets; bearer tokens the registry hands out
 * are registered too. Insecure registries (listed, or loopback) are reached over plain HTTP, as
 * src/registry/reachability.ts does.
 */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export interface FetchedManifest {
  bytes: Buffer;
  digest: string;
  mediaType: string;
}

/** An HTTP answer the client did not expect, with the status kept for callers that tell 404 apart. */
export class RegistryHttpError extends InfraError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** A digest read from a registry's documents goes into a request path: only `sha256:<64 hex>` does. */
function assertDigest(digest: string, host: string): void {
  if (!/^sha256:[a-f0-9]{64}$/.test(digest))
    throw new InfraError(`registry ${host} listed a malformed digest ${JSON.stringify(digest.slice(0, 80))}`);
}

export class RegistryClient {
  private readonly base: string;
  private readonly tokens = new Map<string, string>();
  private basic: string | undefined;
  private credentials: Promise<{ username: string; password: string } | undefined> | undefined;

  constructor(
    readonly host: string,
    insecureRegistries: readonly string[],
  ) {
    const apiHost = host === 'docker.io' ? 'registry-1.docker.io' : host;
    this.base = `${isInsecure(host, insecureRegistries) ? 'http' : 'https'}://${apiHost}`;
  }

  /** The repository path as the registry knows it (`library/` for Docker Hub's official images). */
  static repositoryPath(host: string, repository: string): string {
    return host === 'docker.io' && !repository.includes('/') ? `library/${repository}` : repository;
  }

  /** The manifest under a tag or digest; undefined when the registry has none (404). */
  async getManifest(repository: string, reference: string, accept = MANIFEST_ACCEPT) {
    const response = await this.request('GET', repository, `manifests/${reference}`, { accept });
    if (response.status === 404) return undefined;
    await this.expect(response, [200], `GET manifest ${repository}:${reference}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const mediaType =
      response.headers.get('content-type')?.split(';')[0]?.trim() ||
      (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType ||
      '';
    return { bytes, digest: sha256(bytes), mediaType } satisfies FetchedManifest;
  }

  /** The digest and media type of a tag or digest, by HEAD; undefined when there is none. */
  async headManifest(repository: string, reference: string) {
    const response = await this.request('HEAD', repository, `manifests/${reference}`, {
      accept: MANIFEST_ACCEPT,
    });
    if (response.status === 404) return undefined;
    await this.expect(response, [200], `HEAD manifest ${repository}:${reference}`);
    const digest = response.headers.get('docker-content-digest');
    const mediaType = response.headers.get('content-type')?.split(';')[0]?.trim();
    const size = Number(response.headers.get('content-length'));
    if (!digest || !mediaType || !Number.isFinite(size)) {
      // Some registries answer HEAD without these: read the manifest instead.
      const manifest = await this.getManifest(repository, reference);
      return (
        manifest && { digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.bytes.length }
      );
    }
    return { digest, mediaType, size };
  }

  /** Stores a manifest under a tag or its digest; returns its digest and whether the registry took the subject. */
  async putManifest(repository: string, reference: string, bytes: Uint8Array, mediaType: string) {
    const response = await this.request('PUT', repository, `manifests/${reference}`, {
      body: bytes,
      contentType: mediaType,
      push: true,
    });
    await this.expect(response, [200, 201, 202], `PUT manifest ${repository}:${reference}`);
    return { digest: sha256(bytes), subjectTaken: response.headers.has('oci-subject') };
  }

  async getBlob(repository: string, digest: string): Promise<Buffer> {
    assertDigest(digest, this.host);
    const response = await this.request('GET', repository, `blobs/${digest}`, {});
    await this.expect(response, [200], `GET blob ${repository}@${digest}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    if (sha256(bytes) !== digest)
      throw new InfraError(`registry ${this.host} served blob ${digest} of ${repository} with other content`);
    return bytes;
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    assertDigest(digest, this.host);
    const response = await this.request('HEAD', repository, `blobs/${digest}`, {});
    if (response.status === 404) return false;
    await this.expect(response, [200], `HEAD blob ${repository}@${digest}`);
    return true;
  }

  /** Uploads a blob (monolithic POST + PUT) unless the repository has it already. */
  async putBlob(repository: string, bytes: Uint8Array): Promise<string> {
    const digest = sha256(bytes);
    if (await this.hasBlob(repository, digest)) return digest;
    const start = await this.request('POST', repository, 'blobs/uploads/', { push: true });
    await this.expect(start, [202], `start blob upload to ${repository}`);
    const location = start.headers.get('location');
    if (!location) throw new InfraError(`registry ${this.host} gave no upload location for ${repository}`);
    const url = new URL(location, this.base);
    url.searchParams.set('digest', digest);
    const done = await this.send('PUT', url.toString(), repository, {
      body: bytes,
      contentType: 'application/octet-stream',
      push: true,
    });
    await this.expect(done, [201, 204], `upload blob ${digest} to ${repository}`);
    return digest;
  }

  /**
   * The referrers of a digest through the referrers API; `undefined` when the registry has no such API (it
   * answers 404 or anything but an OCI index), so the caller falls back to the tag schema.
   */
  async referrersApi(repository: string, digest: string): Promise<Buffer | undefined> {
    const response = await this.request('GET', repository, `referrers/${digest}`, {
      accept: 'application/vnd.oci.image.index.v1+json',
    });
    if (response.status === 200) {
      const type = response.headers.get('content-type')?.split(';')[0]?.trim();
      const bytes = Buffer.from(await response.arrayBuffer());
      if (type === 'application/vnd.oci.image.index.v1+json') return bytes;
      return undefined;
    }
    await response.arrayBuffer().catch(() => undefined);
    if ([404, 400, 405, 406].includes(response.status)) return undefined;
    await this.expect(response, [200], `GET referrers of ${repository}@${digest}`);
    return undefined;
  }

  private async request(
    method: string,
    repository: string,
    path: string,
    options: { accept?: string; body?: Uint8Array; contentType?: string; push?: boolean },
  ): Promise<Response> {
    return this.send(method, `${this.base}/v2/${repository}/${path}`, repository, options);
  }

  private async send(
    method: string,
    url: string,
    repository: string,
    options: { accept?: string; body?: Uint8Array; contentType?: string; push?: boolean },
  ): Promise<Response> {
    const scope = `repository:${repository}:${options.push ? 'pull,push' : 'pull'}`;
    const attempt = async () => {
      const headers: Record<string, string> = {};
      if (options.accept) headers.accept = options.accept;
      if (options.contentType) headers['content-type'] = options.contentType;
      const token = this.tokens.get(scope);
      if (token) headers.authorization = `Bearer ${token}`;
      else if (this.basic) headers.authorization = `Basic ${this.basic}`;
      try {
        return await fetch(url, {
          method,
          headers,
          body: options.body ? Buffer.from(options.body) : undefined,
          redirect: 'follow',
          signal: AbortSignal.timeout(120_000),
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        const why = cause?.code ?? cause?.message ?? (error as Error).message;
        throw new InfraError(`registry ${this.host} is unreachable (${why})`);
      }
    };
    let response = await attempt();
    if (response.status === 401) {
      const challenge = response.headers.get('www-authenticate') ?? '';
      await response.arrayBuffer().catch(() => undefined);
      if (await this.authenticate(challenge, scope)) response = await attempt();
    }
    return response;
  }

  /** Answers a 401 challenge: Basic with the stored credentials, or a Bearer token from the realm. */
  private async authenticate(challenge: string, scope: string): Promise<boolean> {
    this.credentials ??= registryCredentials(this.host);
    const credentials = await this.credentials;
    const basic = credentials
      ? Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')
      : undefined;
    if (/^basic/i.test(challenge)) {
      if (!basic || this.basic === basic) return false;
      registerSecret(basic);
      this.basic = basic;
      return true;
    }
    if (!/^bearer/i.test(challenge)) return false;
    const params = Object.fromEntries(
      [...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]),
    );
    if (!params.realm) return false;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', scope);
    let response: Response;
    try {
      response = await fetch(url, {
        headers: basic ? { authorization: `Basic ${basic}` } : {},
        signal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      throw new InfraError(
        `token service ${url.host} of registry ${this.host} is unreachable (${(error as Error).message})`,
      );
    }
    if (!response.ok) {
      await response.arrayBuffer().catch(() => undefined);
      throw new InfraError(
        `registry ${this.host} refused a token for ${scope} (HTTP ${response.status}${credentials ? '' : ', no credentials for it'})`,
      );
    }
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) return false;
    registerSecret(token);
    this.tokens.set(scope, token);
    return true;
  }

  private async expect(response: Response, ok: number[], what: string): Promise<void> {
    if (ok.includes(response.status)) return;
    let detail = '';
    try {
      const text = await response.text();
      const parsed = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
      detail = parsed.errors?.map((e) => [e.code, e.message].filter(Boolean).join(' ')).join('; ') ?? '';
    } catch {
      // no JSON error body
    }
    if (response.status === 401 || response.status === 403) {
      this.credentials ??= registryCredentials(this.host);
      const credentials = await this.credentials;
      detail = credentials
        ? `the credentials for ${this.host} were refused`
        : `no credentials for ${this.host} in the docker config, CI variables or GANTRY_REGISTRY_*`;
    }
    throw new RegistryHttpError(
      `registry ${this.host}: ${what} failed: HTTP ${response.status}${detail ? ` (${detail})` : ''}`,
      response.status,
    );
  }
}
