import { describe, expect, it } from 'vitest';
import { loadCrds } from '../../bed/simulator/crds.mjs';

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
};

/** Structural-schema rule the API server enforces: every node has a type; an object with no properties
 *  must say its content is free-form. Returns the paths breaking it. */
function structuralProblems(schema: Schema, path = ''): string[] {
  const problems: string[] = [];
  if (!schema.type) problems.push(`${path || '/'}: no type`);
  if (schema.type === 'object' && !schema.properties && !schema['x-kubernetes-preserve-unknown-fields']) {
    if (path !== '/metadata') problems.push(`${path}: object without properties or preserve-unknown-fields`);
  }
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    problems.push(...structuralProblems(child, `${path}/${key}`));
  }
  if (schema.items) problems.push(...structuralProblems(schema.items, `${path}[]`));
  return problems;
}

const byName: Record<string, ReturnType<typeof loadCrds>[number]> = Object.fromEntries(
  loadCrds().map((crd) => [crd.metadata.name, crd]),
);

describe('sandbox router CRDs', () => {
  it("installs Gateway API's own standard bundle, v1.6.1: HTTPRoute and the kinds a gateway waits for", () => {
    const crd = byName['httproutes.gateway.networking.k8s.io'];
    expect(crd.metadata.annotations).toMatchObject({
      'gateway.networking.k8s.io/bundle-version': 'v1.6.1',
      'gateway.networking.k8s.io/channel': 'standard',
    });
    expect(crd.spec.names).toMatchObject({ kind: 'HTTPRoute', plural: 'httproutes', singular: 'httproute' });
    expect(crd.spec.versions).toContainEqual(
      expect.objectContaining({ name: 'v1', served: true, storage: true }),
    );
    for (const kind of [
      'gateways',
      'gatewayclasses',
      'grpcroutes',
      'referencegrants',
      'backendtlspolicies',
    ]) {
      expect(byName[`${kind}.gateway.networking.k8s.io`], kind).toBeDefined();
    }
  });

  it('names VirtualService like Istio: networking.istio.io, v1 stored, v1beta1 and v1alpha3 served', () => {
    const crd = byName['virtualservices.networking.istio.io'];
    expect(crd.spec.names).toMatchObject({
      kind: 'VirtualService',
      plural: 'virtualservices',
      shortNames: ['vs'],
    });
    const versions = crd.spec.versions.map((v: { name: string; served: boolean; storage: boolean }) => [
      v.name,
      v.served,
      v.storage,
    ]);
    expect(versions).toEqual([
      ['v1', true, true],
      ['v1beta1', true, false],
      ['v1alpha3', true, false],
    ]);
  });

  it('has structural schemas covering the fields the routers use', () => {
    // Our own stand-ins only: upstream's bundle is the API server's to check (its maps use additionalProperties).
    for (const crd of Object.values(byName).filter((c) => c.metadata.annotations?.['gantry.dev/origin'])) {
      for (const version of crd.spec.versions) {
        expect(
          structuralProblems(version.schema.openAPIV3Schema),
          `${crd.metadata.name} ${version.name}`,
        ).toEqual([]);
      }
    }
    const route = byName['httproutes.gateway.networking.k8s.io'].spec.versions.find(
      (v: { name: string }) => v.name === 'v1',
    ).schema.openAPIV3Schema;
    const ref = route.properties.spec.properties.rules.items.properties.backendRefs.items;
    expect(Object.keys(ref.properties)).toEqual(expect.arrayContaining(['name', 'port', 'weight']));
    expect(ref.properties.weight.default).toBe(1);
    const vs = byName['virtualservices.networking.istio.io'].spec.versions[0].schema.openAPIV3Schema;
    const dest = vs.properties.spec.properties.http.items.properties.route.items;
    expect(Object.keys(dest.properties)).toEqual(['destination', 'weight']);
    expect(dest.properties.destination.properties.host.type).toBe('string');
  });
});
