import { describe, expect, it } from 'vitest';
import { autoscalerInManifests, scalesDeployment, trackAutoscaler } from '../../../src/deploy/autoscaling.js';
import type { Manifest } from '../../../src/deploy/manifests.js';

const hpa = (name: string, target: { kind?: string; name?: string }, bounds: object = {}): Manifest => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', ...target }, maxReplicas: 6, ...bounds },
});

describe('which HPA scales a Deployment', () => {
  it.each([
    ['its own HPA', hpa('web', { kind: 'Deployment', name: 'web' }), true],
    ['an HPA of another Deployment', hpa('api', { kind: 'Deployment', name: 'api' }), false],
    ['an HPA of a StatefulSet of the same name', hpa('web', { kind: 'StatefulSet', name: 'web' }), false],
    ['not an HPA', { kind: 'Service', spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' } } }, false],
  ])('%s', (_title, object, expected) => {
    expect(scalesDeployment(object, 'web')).toBe(expected);
  });

  it('reads the bounds from the manifests; minReplicas defaults to 1 as in Kubernetes', () => {
    const manifests = [
      hpa('api', { kind: 'Deployment', name: 'api' }, { minReplicas: 9 }),
      hpa('web-hpa', { kind: 'Deployment', name: 'web' }),
    ];
    expect(autoscalerInManifests(manifests, 'web')).toEqual({
      name: 'web-hpa',
      minReplicas: 1,
      maxReplicas: 6,
      source: 'manifests',
      spec: manifests[1]!.spec,
    });
    expect(autoscalerInManifests(manifests, 'shop')).toBeUndefined();
  });
});

describe("the new version's own autoscaler", () => {
  const stable = autoscalerInManifests(
    [
      hpa(
        'web',
        { kind: 'Deployment', name: 'web' },
        {
          minReplicas: 4,
          maxReplicas: 10,
          metrics: [{ type: 'Resource', resource: { name: 'cpu' } }],
          behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
        },
      ),
    ],
    'web',
  )!;
  const canary = { name: 'web-canary', namespace: 'shop', uid: 'uid-1' };

  it.each([
    ['a canary of at most 50%', 0.5, 2, 5],
    ['a canary of at most 10%: never below one replica', 0.1, 1, 1],
    ['a preview that takes all the traffic', 1, 4, 10],
  ])('%s', (_title, share, minReplicas, maxReplicas) => {
    const object = trackAutoscaler(stable, canary, share);
    expect(object.metadata).toMatchObject({
      name: 'web-canary',
      namespace: 'shop',
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-canary', uid: 'uid-1' }],
    });
    expect(object.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-canary' },
      minReplicas,
      maxReplicas,
      metrics: [{ type: 'Resource', resource: { name: 'cpu' } }],
      behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
    });
  });
});
