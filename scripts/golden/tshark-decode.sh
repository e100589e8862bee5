#!/usr/bin/env bash
# Golden per-frame TCP decode from tshark, for the decoder tests (test/tshark-decode.test.ts).
# For every capture of ../shared/corpus/formats and ../shared/oracle/zeek/traces, one TSV in
# test/golden/decode/ with, per frame where tshark finds TCP: frame number, the innermost IP
# source and destination, ports, raw sequence and acknowledgement numbers, flags, TCP payload
# length and the raw window. IP reassembly is on (tshark's default): a segment carried in fragments
# is at the frame that completes its datagram. Run by hand when the corpus changes:
#   bash scripts/golden/tshark-decode.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=${TCPSTATE_SHARED:-$root/../shared}
out=$root/test/golden/decode
command -v tshark >/dev/null || { echo "tshark not installed (apt-get install tshark)" >&2; exit 1; }
mkdir -p "$out"
version=$(tshark --version | head -1)
fields=(frame.number ip.src ipv6.src ip.dst ipv6.dst tcp.srcport tcp.dstport tcp.seq_raw tcp.ack_raw tcp.flags tcp.len tcp.window_size_value)
args=()
for f in "${fields[@]}"; do args+=(-e "$f"); done
for dir in "$shared/corpus/formats" "$shared/oracle/zeek/traces"; do
  for cap in "$dir"/*; do
    case "$cap" in *.tsv|*.md|*.zst) continue ;; esac
    name=$(basename "$cap")
    {
      echo "# $version | tshark -n -Y tcp -T fields -E occurrence=l (innermost layer; IP reassembly on)"
      (IFS=$'\t'; echo "${fields[*]}")
      tshark -n -r "$cap" -Y tcp -T fields -E separator=/t -E occurrence=l "${args[@]}" 2>/dev/null
    } > "$out/$name.tsv"
  done
done
echo "wrote $(ls "$out" | wc -l) goldens to $out"
