#!/usr/bin/env bash
# Golden: per Zeek trace, how many frames hold TCP with a wrong IPv4 header or TCP checksum
# according to tshark (checksum validation on). test/verify-checksums.test.ts compares
# tcpstate --verify-checksums' dropped count with it. Run by hand: bash scripts/golden/tshark-checksums.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=${TCPSTATE_SHARED:-$root/../shared}
out=$root/test/golden/checksums.tsv
{
  echo "# $(tshark --version | head -1) | tshark -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -Y 'tcp && (tcp.checksum.status==0 || ip.checksum.status==0)'"
  printf 'trace\tbad_checksum_frames\n'
  for f in "$shared"/oracle/zeek/traces/*; do
    n=$(tshark -r "$f" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
      -Y 'tcp && (tcp.checksum.status==0 || ip.checksum.status==0)' -T fields -e frame.number 2>/dev/null | wc -l)
    printf '%s\t%s\n' "$(basename "$f")" "$n"
  done
} > "$out"
echo "wrote $out"
