import type { RouterName } from '../types.js';
import { GatewayApiRouter } from './gateway-api.js';
import { IstioRouter } from './istio.js';
import { NginxRouter } from './nginx.js';
import { ReplicasRouter } from './replicas.js';
import type { Router } from './types.js';

/** The factory: one switch from name to router. */
export function createRouter(name: RouterName): Router {
  switch (name) {
    case 'replicas':
      return new ReplicasRouter();
    case 'gateway-api':
      return new GatewayApiRouter();
    case 'istio':
      return new IstioRouter();
    case 'nginx':
      return new NginxRouter();
  }
}
