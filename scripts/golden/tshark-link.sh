#!/usr/bin/env bash
# Golden per-frame TCP decode from tshark for the link-layer captures of samples/link
# (written by scripts/make-link-captures.ts), compared by test/link-captures.test.ts.
# One TSV per capture in samples/link/golden/, the columns of scripts/golden/tshark-decode.sh.
# Run by hand after changing the generator: bash scripts/golden/tshark-link.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$root/samples/link
out=$dir/golden
command -v tshark >/dev/null || { echo "tshark not installed (apt-get install tshark)" >&2; exit 1; }
mkdir -p "$out"
version=$(tshark --version | head -1)
fields=(frame.number ip.src ipv6.src ip.dst ipv6.dst tcp.srcport tcp.dstport tcp.seq_raw tcp.ack_raw tcp.flags tcp.len tcp.window_size_value tcp.stream)
args=()
for f in "${fields[@]}"; do args+=(-e "$f"); done
for cap in "$dir"/*.pcap; do
  name=$(basename "$cap")
  {
    echo "# $version | tshark -n -o ip.defragment:FALSE -Y tcp -T fields -E occurrence=l (innermost layer)"
    (IFS=$'\t'; echo "${fields[*]}")
    tshark -n -o ip.defragment:FALSE -r "$cap" -Y tcp -T fields -E separator=/t -E occurrence=l "${args[@]}" 2>/dev/null
  } > "$out/$name.tsv"
done
echo "wrote $(ls "$out" | wc -l) goldens to $out"
