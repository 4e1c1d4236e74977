import type { Gate } from './strategies/types.js';

/** What a `gantry promote` request did to the running rollout. */
export type PromoteEffect = 'released' | 'promoted' | 'ignored';

/**
 * What `gantry promote` means to a running rollout. At a gate (a canary step with `pause: until-promoted`) it
 * releases that gate: the rollout goes on with the next step, its pauses, its analysis and its later gates.
 * Anywhere else it promotes now, as it always did: the step in progress ends and the remaining steps are
 * skipped. A request for one gate (`gantry promote` saw the rollout waiting there) only ever releases that
 * gate: arriving after the gate was decided (it timed out, or another promote released it), it is ignored
 * rather than taken as "promote now".
 */
export class Promotions {
  private readonly promoteNow = new AbortController();
  private open: { index: number; released: AbortController } | undefined;

  /** Fires on a promote outside a gate: the step in progress ends and the remaining steps are skipped. */
  get signal(): AbortSignal {
    return this.promoteNow.signal;
  }

  /** A gate at step `index` is open until it is released or closed. */
  openGate(index: number): Gate {
    const gate = { index, released: new AbortController() };
    this.open = gate;
    return {
      released: gate.released.signal,
      close: () => {
        if (this.open === gate) this.open = undefined;
      },
    };
  }

  /** A `gantry promote` arrived; `gate` is the step index of the gate it was sent for, if it was. */
  request(gate?: number): PromoteEffect {
    const open = this.open;
    if (open && (gate === undefined || gate === open.index)) {
      this.open = undefined;
      open.released.abort();
      return 'released';
    }
    if (gate !== undefined) return 'ignored';
    this.promoteNow.abort();
    return 'promoted';
  }
}
