/** The detectors' one interface: called in their order, each only for what it declares. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AnalysisResult } from '../src/tcp/wireshark/seq-analysis.js';
import type { FlowStore, FlowView } from '../src/tcp/rfc793/flow.js';
import { Detectors, standardDetectors } from '../src/detect/registry.js';
import { DEFAULT_CONNECTION_THRESHOLDS } from '../src/detect/connection.js';
import { DEFAULT_HOST_THRESHOLDS } from '../src/detect/hosts.js';

test('Detectors: packets, connection ends and the finish go to those that declare them, in order', () => {
  const calls: string[] = [];
  const d = new Detectors([
    { name: 'a', onPacket: (_st, slot) => calls.push(`a packet ${slot}`), onConnEnd: () => calls.push('a end') },
    { name: 'b', onConnEnd: () => calls.push('b end'), finish: () => calls.push('b finish') },
    { name: 'c', finish: () => calls.push('c finish') },
  ]);
  d.packet(null as unknown as FlowStore, 7, 'client', 1, 0, {} as AnalysisResult);
  d.connEnd({} as FlowView);
  d.finish();
  assert.deepEqual(calls, ['a packet 7', 'a end', 'b end', 'b finish', 'c finish']);
});

test('the standard set: packet flags, then the connection, then the hosts', () => {
  const d = standardDetectors(() => undefined, { ...DEFAULT_CONNECTION_THRESHOLDS, ...DEFAULT_HOST_THRESHOLDS });
  assert.deepEqual(
    d.list.map((x) => [x.name, x.onPacket !== undefined, x.onConnEnd !== undefined, x.finish !== undefined]),
    [
      ['packet flags', true, false, false],
      ['connection', false, true, false],
      ['hosts', false, true, true],
    ],
  );
});
