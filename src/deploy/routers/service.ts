import { InputError } from '../../util/errors.js';
import { canaryName, MANAGED_BY, ROLLOUT_LABEL, TRACK_LABEL, type Track } from '../labels.js';
import type { Manifest } from '../manifests.js';
import type { RouteContext } from './types.js';

interface ServiceSpec {
  selector?: Record<string, string>;
  ports?: unknown[];
  type?: string;
}

/** The selector of the main Service without Gantry's track, i.e. "every pod of the app". */
export function appSelector(service: Manifest): Record<string, string> {
  const { [TRACK_LABEL]: _track, ...rest } = ((service.spec as ServiceSpec | undefined)?.selector ??
    {}) as Record<string, string>;
  if (Object.keys(rest).length === 0) {
    throw new InputError(
      '--manifests',
      `Service "${service.metadata.name}" has no selector; Gantry routes by selector`,
    );
  }
  return rest;
}

/**
 * The main Service with its selector narrowed to one track (blue-green switch, routers' stable backend). Its
 * labels and annotations stay: applied without them, server-side apply would remove the ones the manifests set.
 */
export function serviceForTrack(service: Manifest, track: Track): Manifest {
  const spec = (service.spec ?? {}) as ServiceSpec;
  const { labels, annotations } = service.metadata;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: service.metadata.name,
      namespace: service.metadata.namespace,
      ...(labels && { labels }),
      ...(annotations && { annotations }),
    },
    spec: { ...spec, selector: { ...appSelector(service), [TRACK_LABEL]: track } },
  };
}

/** A Service in front of the new version only (`<name>-canary` / `<name>-preview`). */
export function trackService(context: RouteContext, name: string, track: Track): Manifest {
  const spec = (context.service.spec ?? {}) as ServiceSpec;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: context.namespace,
      labels: { ...MANAGED_BY, [ROLLOUT_LABEL]: context.name },
    },
    spec: { ports: spec.ports, selector: { ...appSelector(context.service), [TRACK_LABEL]: track } },
  };
}

export function isCanaryServiceName(context: RouteContext): boolean {
  return context.canaryService === canaryName(context.name);
}
