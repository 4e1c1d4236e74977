/**
 * in-toto Statements (v1) about an image: what `gantry sign` attaches as attestations and what `gantry verify`
 * reads back. The predicate types are the URIs cosign's `--type` short names stand for, so an attestation made
 * by either tool is found by the other.
 */
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';

/** cosign's `--type` short names and the predicate type URIs they stand for. */
export const PREDICATE_TYPES = {
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  cyclonedx: 'https://cyclonedx.org/bom',
  spdxjson: 'https://spdx.dev/Document',
  vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
} as const;

export type PredicateName = keyof typeof PREDICATE_TYPES;

export interface Subject {
  /** the image's repository, e.g. `registry.example/shop/api` */
  name: string;
  digest: { sha256: string };
}

export interface Statement<P = unknown> {
  _type: typeof STATEMENT_TYPE;
  subject: Subject[];
  predicateType: string;
  predicate: P;
}

/** A statement about one image, `repository@sha256:<hex>`. */
export function statementFor<P>(image: string, predicateType: string, predicate: P): Statement<P> {
  const at = image.lastIndexOf('@sha256:');
  if (at < 0) throw new Error(`not an image digest reference: ${image}`);
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: image.slice(0, at), digest: { sha256: image.slice(at + '@sha256:'.length) } }],
    predicateType,
    predicate,
  };
}

/** The predicate type a short name (`slsaprovenance1`, `cyclonedx`, …) or a full URI stands for. */
export function predicateTypeOf(nameOrUri: string): string | undefined {
  if (nameOrUri in PREDICATE_TYPES) return PREDICATE_TYPES[nameOrUri as PredicateName];
  return /^https?:\/\//.test(nameOrUri) ? nameOrUri : undefined;
}

/** cosign's short name of a predicate type URI (`slsaprovenance1`), or the URI when it has none. */
export function predicateName(uri: string): string {
  return Object.entries(PREDICATE_TYPES).find(([, known]) => known === uri)?.[0] ?? uri;
}
