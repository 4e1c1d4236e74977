import { describe, expect, it } from 'vitest';
import { gateOfCommand, parseCommand } from '../../../src/deploy/lease.js';
import { Promotions } from '../../../src/deploy/promotion.js';

// What `gantry promote` does to a running rollout: releases the gate that is open, or promotes now; a request
// sent for one gate never promotes anything else.

describe('Promotions', () => {
  it('outside a gate, a promote promotes now (as before gates existed)', () => {
    const promotions = new Promotions();
    expect(promotions.request()).toBe('promoted');
    expect(promotions.signal.aborted).toBe(true);
  });

  it('at an open gate, a promote releases that gate and nothing else', () => {
    const promotions = new Promotions();
    const gate = promotions.openGate(1);
    expect(promotions.request()).toBe('released');
    expect(gate.released.aborted).toBe(true);
    expect(promotions.signal.aborted).toBe(false);
  });

  it('a second promote after the gate was released promotes now', () => {
    const promotions = new Promotions();
    promotions.openGate(1);
    promotions.request();
    expect(promotions.request()).toBe('promoted');
  });

  it('a promote sent for a gate releases it only while it is open; later it is ignored', () => {
    const promotions = new Promotions();
    const first = promotions.openGate(1);
    expect(promotions.request(1)).toBe('released');
    expect(first.released.aborted).toBe(true);
    // The same request again (a second person, a retried job): the gate is decided, nothing more happens.
    expect(promotions.request(1)).toBe('ignored');
    expect(promotions.signal.aborted).toBe(false);
  });

  it('a promote for a gate that timed out (closed) is ignored; one for another gate does not release this one', () => {
    const promotions = new Promotions();
    promotions.openGate(1).close();
    expect(promotions.request(1)).toBe('ignored');
    const second = promotions.openGate(2);
    expect(promotions.request(1)).toBe('ignored');
    expect(second.released.aborted).toBe(false);
    expect(promotions.request(2)).toBe('released');
    expect(promotions.signal.aborted).toBe(false);
  });

  it('closing a gate that was replaced does not close the new one', () => {
    const promotions = new Promotions();
    const first = promotions.openGate(0);
    const second = promotions.openGate(1);
    first.close();
    expect(promotions.request()).toBe('released');
    expect(second.released.aborted).toBe(true);
  });
});

describe('the command annotation', () => {
  it.each([
    ['promote', 'promote', undefined],
    ['abort', 'abort', undefined],
    ['promote@0', 'promote@0', 0],
    ['promote@12', 'promote@12', 12],
  ] as const)('%s is a command (gate %s)', (value, command, gate) => {
    expect(parseCommand(value)).toBe(command);
    expect(gateOfCommand(parseCommand(value)!)).toBe(gate);
  });

  it.each([
    undefined,
    '',
    'Promote',
    'promote@',
    'promote@x',
    'promote@-1',
    'abort@1',
    'promote@12345',
    'rm -rf',
  ])('%j is not', (value) => {
    expect(parseCommand(value)).toBeUndefined();
  });
});
