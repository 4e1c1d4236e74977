import type { CoreV1Event } from '@kubernetes/client-node';
import { log } from '../util/log.js';
import type { Kube } from './kube.js';
import { RUN_LABEL, runLabelValue } from './labels.js';

/**
 * Kubernetes Events on the Deployment for every phase change, so `kubectl describe deployment` and any
 * event exporter show what Gantry did, even when the CI log is gone. Event failures never stop a rollout.
 */
export class RolloutEvents {
  private uid: string | undefined;
  private readonly listeners: ((reason: string) => void)[] = [];

  constructor(
    private readonly kube: Kube,
    private readonly namespace: string,
    private readonly deployment: string,
    private readonly runId: string,
  ) {}

  setUid(uid: string | undefined): void {
    this.uid = uid;
  }

  /** Called with each event's reason as it is emitted (the notifications follow the rollout this way). */
  listen(listener: (reason: string) => void): void {
    this.listeners.push(listener);
  }

  async emit(reason: string, message: string, type: 'Normal' | 'Warning' = 'Normal'): Promise<void> {
    for (const listener of this.listeners) {
      try {
        listener(reason);
      } catch (error) {
        log.warn(`could not follow event ${reason}: ${(error as Error).message}`);
      }
    }
    const now = new Date();
    const body: CoreV1Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        generateName: `${this.deployment}.gantry.`,
        namespace: this.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'gantry', [RUN_LABEL]: runLabelValue(this.runId) },
      },
      involvedObject: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: this.deployment,
        namespace: this.namespace,
        uid: this.uid,
      },
      reason,
      message: `${message} (run ${this.runId})`,
      type,
      source: { component: 'gantry' },
      reportingComponent: 'gantry',
      reportingInstance: this.runId.slice(0, 128),
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      this.kube.count('create');
      await this.kube.objects.create(body);
    } catch (error) {
      log.warn(`could not record event ${reason}: ${(error as Error).message}`);
    }
  }
}
