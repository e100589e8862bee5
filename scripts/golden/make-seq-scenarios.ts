// Writes the sequence-analysis scenarios of test/seq-scenarios.ts as captures in
// test/golden/seq-scenarios/<name>.pcap (Ethernet, pcap, nanosecond timestamps), so
// that tshark can confirm what the unit tests expect:
//   node dist/scripts/golden/make-seq-scenarios.js && bash scripts/golden/tshark-analysis.sh
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { frameOf } from '../../test/scenario/scenarios.js';
import { LINKTYPE, writePcap } from '../../test/scenario/writer.js';
import { segmentsOf, seqScenarios } from '../../test/seq-scenarios.js';

const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');
const out = join(root, 'test', 'golden', 'seq-scenarios');
mkdirSync(out, { recursive: true });
for (const s of seqScenarios) {
  const frames = segmentsOf(s).map((seg) => ({
    tsNs: seg.tsNs,
    bytes: frameOf({ type: 'ethernet' }, seg.from, seg.etherType, seg.ip),
  }));
  writeFileSync(join(out, `${s.name}.pcap`), writePcap({ endian: 'le', precision: 'ns', linkType: LINKTYPE.ETHERNET, snaplen: 262144 }, frames));
}
console.log(`wrote ${seqScenarios.length} captures to ${out}`);
