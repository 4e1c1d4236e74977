import { describe, expect, it } from 'vitest';
import { RUN_LABEL, runLabelValue, TRACK_LABEL } from '../../../src/deploy/labels.js';
import type { Manifest } from '../../../src/deploy/manifests.js';
import { trackDeployment, withTrack } from '../../../src/deploy/workload.js';

const target: Manifest = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
  spec: {
    replicas: 4,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'app', image: 'registry.example/web@sha256:aa' }] },
    },
  },
};

type Spec = {
  replicas: number;
  selector: { matchLabels: Record<string, string> };
  template: { metadata: { labels: Record<string, string> } };
};

describe('the run label on the new version’s pods', () => {
  it.each(['canary', 'preview'] as const)(
    '%s: in the pod template only, the selector narrowed by the track alone',
    (track) => {
      const spec = trackDeployment(target, `web-${track}`, track, 2, '17-0a1b2c3d').spec as Spec;
      expect(spec.template.metadata.labels).toEqual({
        app: 'web',
        [TRACK_LABEL]: track,
        [RUN_LABEL]: '17-0a1b2c3d',
      });
      expect(spec.selector).toEqual({ matchLabels: { app: 'web', [TRACK_LABEL]: track } });
      expect(spec.replicas).toBe(2);
    },
  );

  it('is never put on the stable Deployment: promotion applies the template as the manifests say', () => {
    const spec = withTrack(target, 'stable').spec as Spec;
    expect(spec.template.metadata.labels).toEqual({ app: 'web', [TRACK_LABEL]: 'stable' });
    expect(spec.selector).toEqual({ matchLabels: { app: 'web' } });
  });

  it('leaves the target manifest untouched', () => {
    const before = structuredClone(target);
    trackDeployment(target, 'web-canary', 'canary', 1, 'r');
    expect(target).toEqual(before);
  });
});

describe('runLabelValue', () => {
  it.each([
    ['9112345678-0a1b2c3d', '9112345678-0a1b2c3d'],
    ['jenkins-shop/web main-17-0a1b2c3d', 'jenkins-shop-web-main-17-0a1b2c3d'],
    ['-x-', 'x'],
    ['///', 'run'],
    // Too long: the end is kept, random hex included, so that two runs never share a value.
    [`jenkins-${'a'.repeat(80)}-12-0a1b2c3d`, `${'a'.repeat(51)}-12-0a1b2c3d`],
  ])('%j → %j', (runId, value) => {
    expect(runLabelValue(runId)).toBe(value);
    expect(value).toMatch(/^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/);
  });
});
