import { describe, expect, it } from 'vitest';
import {
  type Condition,
  judgeParent,
  judgeRoute,
  type Observed,
  sameParent,
} from '../../../src/deploy/routers/route-status.js';

const cond = (type: string, status: Condition['status'], observedGeneration: number, reason?: string) => ({
  type,
  status,
  observedGeneration,
  ...(reason && { reason, message: `${type} says ${reason}` }),
});

function route(parents: Array<{ name: string; conditions: Condition[] }>): Observed {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'web', namespace: 'shop', generation: 4 },
    status: { parents: parents.map((p) => ({ parentRef: { name: p.name }, conditions: p.conditions })) },
  };
}

describe('a gateway judging an HTTPRoute generation', () => {
  it('is pending until both conditions carry the generation written', () => {
    expect(judgeParent(undefined, 4)).toEqual({ state: 'pending' });
    const stale = {
      parentRef: { name: 'gw' },
      conditions: [cond('Accepted', 'True', 3), cond('ResolvedRefs', 'True', 3)],
    };
    expect(judgeParent(stale, 4)).toEqual({ state: 'pending' });
    const half = {
      parentRef: { name: 'gw' },
      conditions: [cond('Accepted', 'True', 4), cond('ResolvedRefs', 'True', 3)],
    };
    expect(judgeParent(half, 4)).toEqual({ state: 'pending' });
  });

  it('accepts when Accepted and ResolvedRefs are True for that generation or a newer one', () => {
    const ok = {
      parentRef: { name: 'gw' },
      conditions: [cond('Accepted', 'True', 5), cond('ResolvedRefs', 'True', 4)],
    };
    expect(judgeParent(ok, 4)).toEqual({ state: 'accepted' });
  });

  it('rejects on either condition False, naming it; a False of an older generation does not count', () => {
    const refs = {
      parentRef: { name: 'gw' },
      conditions: [cond('Accepted', 'True', 4), cond('ResolvedRefs', 'False', 4, 'BackendNotFound')],
    };
    expect(judgeParent(refs, 4)).toMatchObject({
      state: 'rejected',
      condition: { reason: 'BackendNotFound' },
    });
    const old = {
      parentRef: { name: 'gw' },
      conditions: [cond('Accepted', 'False', 3, 'NotAllowedByListeners'), cond('ResolvedRefs', 'True', 4)],
    };
    expect(judgeParent(old, 4)).toEqual({ state: 'pending' });
  });

  it('over several parents: the first rejection wins, else the first still silent is named', () => {
    const r = route([
      { name: 'a', conditions: [cond('Accepted', 'True', 4), cond('ResolvedRefs', 'True', 4)] },
      { name: 'b', conditions: [cond('Accepted', 'False', 4, 'NoMatchingParent')] },
    ]);
    expect(judgeRoute(r, [{ name: 'a' }, { name: 'b' }], 4)).toMatchObject({
      state: 'rejected',
      parent: { name: 'b' },
      condition: { reason: 'NoMatchingParent' },
    });
    expect(judgeRoute(r, [{ name: 'a' }, { name: 'c' }], 4)).toEqual({
      state: 'pending',
      waitingFor: { name: 'c' },
    });
    expect(judgeRoute(r, [{ name: 'a' }], 4)).toEqual({ state: 'accepted' });
  });

  it("matches a status entry to its parentRef with the route's namespace and Gateway as defaults", () => {
    expect(sameParent({ name: 'gw' }, { name: 'gw', namespace: 'shop', kind: 'Gateway' }, 'shop')).toBe(true);
    expect(sameParent({ name: 'gw' }, { name: 'gw', namespace: 'infra' }, 'shop')).toBe(false);
    expect(sameParent({ name: 'gw', sectionName: 'web' }, { name: 'gw' }, 'shop')).toBe(false);
  });
});
