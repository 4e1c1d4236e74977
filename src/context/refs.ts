import type { BuildContext, RefType } from './types.js';

export const BRANCH_REF_PREFIX = 'refs/heads/';
export const TAG_REF_PREFIX = 'refs/tags/';

/** The part of a build context that a ref determines. */
export interface RefFields {
  ref?: string;
  refType: RefType;
  branch?: string;
  tag?: string;
}

/** Classifies a full ref: `refs/heads/x` is a branch, `refs/tags/x` a tag; anything else is unknown here. */
export function refFields(ref: string | undefined): RefFields {
  if (ref?.startsWith(BRANCH_REF_PREFIX)) {
    return { ref, refType: 'branch', branch: ref.slice(BRANCH_REF_PREFIX.length) };
  }
  if (ref?.startsWith(TAG_REF_PREFIX)) return { ref, refType: 'tag', tag: ref.slice(TAG_REF_PREFIX.length) };
  return ref ? { ref, refType: 'unknown' } : { refType: 'unknown' };
}

export function branchFields(branch: string): RefFields {
  return { ref: `${BRANCH_REF_PREFIX}${branch}`, refType: 'branch', branch };
}

export function tagFields(tag: string): RefFields {
  return { ref: `${TAG_REF_PREFIX}${tag}`, refType: 'tag', tag };
}

/** `refs/heads/main` → `main`; other values unchanged. */
export function withoutBranchPrefix(ref: string): string {
  return ref.startsWith(BRANCH_REF_PREFIX) ? ref.slice(BRANCH_REF_PREFIX.length) : ref;
}

/** A branch build is a default-branch build when the branch is the default branch; tags and PRs never are. */
export function isDefaultBranchBuild(
  context: Pick<BuildContext, 'refType' | 'branch' | 'defaultBranch'>,
): boolean {
  return (
    context.refType === 'branch' && context.branch !== undefined && context.branch === context.defaultBranch
  );
}
