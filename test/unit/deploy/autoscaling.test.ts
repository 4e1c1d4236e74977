import { describe, expect, it } from 'vitest';
import { autoscalerInManifests, scalesDeployment } from '../../../src/deploy/autoscaling.js';
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
    });
    expect(autoscalerInManifests(manifests, 'shop')).toBeUndefined();
  });
});
