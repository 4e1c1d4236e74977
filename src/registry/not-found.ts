import { InputError, messageOf } from '../util/errors.js';

/**
 * What a registry says (through skopeo, trivy or grype) when a well-formed reference names nothing: the
 * distribution API's MANIFEST_UNKNOWN / NAME_UNKNOWN, or skopeo's "manifest unknown".
 */
const NOT_FOUND = /\b(MANIFEST_UNKNOWN|NAME_UNKNOWN|manifest unknown|name unknown)\b/i;

/** True when a tool's error says the image does not exist (as opposed to the registry failing). */
export function isImageNotFound(message: string): boolean {
  return NOT_FOUND.test(message);
}

/**
 * A reference that names no image is the user's input at fault (exit 2, one line naming the input), not an
 * infrastructure failure; every other error is returned unchanged.
 */
export function imageNotFoundAsInput(error: unknown, reference: string, input: string): unknown {
  if (!isImageNotFound(messageOf(error))) return error;
  return new InputError(
    input,
    `${JSON.stringify(reference)} does not exist in the registry (manifest unknown)`,
    {
      cause: error,
    },
  );
}
