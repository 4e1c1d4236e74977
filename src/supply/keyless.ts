/**
 * Keyless signing: a short-lived certificate from Fulcio for the CI job's OIDC identity, and the signature
 * recorded in Rekor — done by the sigstore JS library (`sigstore.attest`, a DSSE bundle v0.3), stored like a
 * key-signed bundle. It needs Fulcio and Rekor on the network (the public-good instances by default), so it cannot
 * run in the sandbox: the token discovery is unit-tested, the library call is not (README, docs/supply-chain.md).
 * `cosign verify --certificate-identity … --certificate-oidc-issuer …` verifies the result; `gantry verify`
 * checks key-signed images only.
 */
import { InfraError, InputError, messageOf } from '../util/errors.js';
import { registerSecret } from '../util/secrets.js';
import { INTOTO_PAYLOAD_TYPE } from './dsse.js';

export interface KeylessSettings {
  /** The variable holding the OIDC identity token; default SIGSTORE_ID_TOKEN, then GitHub's token service. */
  identityTokenEnv?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
}

/** What signs a payload into a sigstore bundle (JSON bytes): a key, or Fulcio + Rekor. */
export interface BundleSigner {
  describe: string;
  bundle(payload: Buffer): Promise<Buffer>;
}

type Env = Record<string, string | undefined>;

/**
 * The job's OIDC identity token, audience `sigstore`: the variable `--identity-token-env` names; else
 * SIGSTORE_ID_TOKEN (what cosign reads; GitLab's `id_tokens: {SIGSTORE_ID_TOKEN: {aud: sigstore}}`); else
 * GitHub Actions' token service (the job needs `permissions: id-token: write`). Registered as a secret.
 * @throws InputError naming `--keyless` / `--identity-token-env` when there is none
 */
export async function identityToken(
  settings: KeylessSettings,
  env: Env = process.env,
  fetchToken: typeof fetch = fetch,
): Promise<string> {
  const found = (value: string | undefined) => {
    registerSecret(value);
    return value as string;
  };
  if (settings.identityTokenEnv) {
    const value = env[settings.identityTokenEnv];
    if (!value) throw new InputError('--identity-token-env', `$${settings.identityTokenEnv} is not set`);
    return found(value);
  }
  if (env.SIGSTORE_ID_TOKEN) return found(env.SIGSTORE_ID_TOKEN);
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (url && bearer) {
    registerSecret(bearer);
    const request = new URL(url);
    request.searchParams.set('audience', 'sigstore');
    let response: Response;
    try {
      response = await fetchToken(request, { headers: { authorization: `Bearer ${bearer}` } });
    } catch (error) {
      throw new InfraError(`GitHub's OIDC token service did not answer: ${messageOf(error)}`, {
        cause: error,
      });
    }
    if (!response.ok) throw new InfraError(`GitHub's OIDC token service answered HTTP ${response.status}`);
    const body = (await response.json().catch(() => ({}))) as { value?: string };
    if (!body.value) throw new InfraError("GitHub's OIDC token service answered without a token");
    return found(body.value);
  }
  throw new InputError(
    '--keyless',
    'no OIDC identity token: on GitHub grant `permissions: id-token: write`; on GitLab declare `id_tokens: {SIGSTORE_ID_TOKEN: {aud: sigstore}}`; or name the variable with --identity-token-env',
  );
}

/** Signs with a Fulcio certificate for the token's identity, the signature logged in Rekor. */
export function keylessSigner(token: string, settings: KeylessSettings): BundleSigner {
  const fulcio = settings.fulcioUrl ?? 'https://fulcio.sigstore.dev';
  const rekor = settings.rekorUrl ?? 'https://rekor.sigstore.dev';
  return {
    describe: `keyless (Fulcio ${fulcio}, Rekor ${rekor})`,
    async bundle(payload: Buffer): Promise<Buffer> {
      const sigstore = await import('sigstore');
      try {
        const bundle = await sigstore.attest(payload, INTOTO_PAYLOAD_TYPE, {
          identityToken: token,
          fulcioURL: fulcio,
          rekorURL: rekor,
          tlogUpload: true,
        });
        return Buffer.from(JSON.stringify(bundle));
      } catch (error) {
        throw new InfraError(
          `keyless signing failed (Fulcio ${fulcio}, Rekor ${rekor}): ${messageOf(error)}`,
          {
            cause: error,
          },
        );
      }
    },
  };
}
