#!/usr/bin/env bash
# Write the tshark golden `tshark.tsv` beside every capture under samples/kernel/, and
# samples/scenarios/golden/<capture>.tsv for every scenario capture.
#
#   bash scripts/kernel/tshark-golden.sh [--out-dir DIR] [capture ...]
#
# With --out-dir, each golden goes to DIR/<capture file name>.tsv instead
# (scripts/golden/tshark-analysis.sh uses it for the shared corpus).
#
# One line per TCP frame (display filter `tcp and not icmp and not icmpv6`, as in
# shared/design/tcp-analysis-rules.md §8: ARP/NDP frames and TCP headers quoted in
# ICMP errors are left out; frame numbers are the capture's own). One pass (no -2),
# empty profile, the analysis preferences spelled out. Flag columns print 1 when
# the flag is set and nothing otherwise; -E occurrence=f keeps the first value.
# Line 1 is a `#` comment with `tshark --version | head -1` and the options;
# line 2 is the header.
set -euo pipefail

OUT_DIR=
if [ "${1:-}" = "--out-dir" ]; then
  OUT_DIR=$2
  shift 2
  mkdir -p "$OUT_DIR"
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT="$ROOT/samples/kernel"

command -v tshark >/dev/null 2>&1 || { echo "skipped: tshark not installed"; exit 0; }

VERSION=$(tshark --version 2>/dev/null | head -1)
case "$VERSION" in
  *" 4.0.17 "*) ;;
  *) echo "WARNING: the oracle is pinned to tshark 4.0.17, this is: $VERSION" >&2 ;;
esac

PROFILE=$(mktemp -d /tmp/tcpstate-empty-ws-profile.XXXXXX)
trap 'rm -rf "$PROFILE"' EXIT

PREFS=(
  -o tcp.analyze_sequence_numbers:TRUE
  -o tcp.relative_sequence_numbers:TRUE
  -o tcp.calculate_timestamps:TRUE
  -o tcp.track_bytes_in_flight:TRUE
  -o tcp.fastrt_supersedes_ooo:TRUE
  -o tcp.desegment_tcp_streams:FALSE
)
DFILTER='tcp and not icmp and not icmpv6'

# column name in the TSV | tshark field(s)
# src/dst merge ip.* and ipv6.*; everything else is one field.
FLAGS=(retransmission fast_retransmission spurious_retransmission out_of_order
  lost_segment ack_lost_segment duplicate_ack duplicate_ack_num duplicate_ack_frame
  keep_alive keep_alive_ack zero_window zero_window_probe zero_window_probe_ack
  window_update window_full reused_ports)
FIELDS=(frame.number frame.time_epoch ip.src ipv6.src tcp.srcport ip.dst ipv6.dst tcp.dstport
  tcp.stream tcp.flags tcp.seq_raw tcp.ack_raw tcp.len tcp.window_size_value)
for f in "${FLAGS[@]}"; do FIELDS+=("tcp.analysis.$f"); done
# extra, after the required columns
FIELDS+=(tcp.window_size_scalefactor tcp.analysis.initial_rtt)

EARGS=()
for f in "${FIELDS[@]}"; do EARGS+=(-e "$f"); done

HEADER="frame.number	frame.time_epoch	src	srcport	dst	dstport	tcp.stream	tcp.flags	tcp.seq_raw	tcp.ack_raw	tcp.len	tcp.window_size_value"
for f in "${FLAGS[@]}"; do HEADER="$HEADER	tcp.analysis.$f"; done
HEADER="$HEADER	tcp.window_size_scalefactor	tcp.analysis.initial_rtt"

golden() { # capture -> tshark.tsv beside it
  local cap=$1 out
  case "$OUT_DIR:$cap" in
    ?*:*) out="$OUT_DIR/$(basename "$cap").tsv" ;;
    *samples/scenarios/*) mkdir -p "$(dirname "$cap")/golden"; out="$(dirname "$cap")/golden/$(basename "$cap").tsv" ;;
    *) out="$(dirname "$cap")/tshark.tsv" ;;
  esac
  {
    printf '# %s | tshark -n %s -Y "%s" -T fields -E separator=/t -E occurrence=f (one pass, empty profile)\n' \
      "$VERSION" "${PREFS[*]}" "$DFILTER"
    printf '%s\n' "$HEADER"
    WIRESHARK_CONFIG_DIR=$PROFILE tshark -r "$cap" -n "${PREFS[@]}" -Y "$DFILTER" \
      -T fields -E header=n -E separator=/t -E occurrence=f "${EARGS[@]}" 2>"$PROFILE/err" |
      awk -F'\t' -v OFS='\t' '{
        src = ($3 != "") ? $3 : $4; dst = ($6 != "") ? $6 : $7
        line = $1 OFS $2 OFS src OFS $5 OFS dst
        for (i = 8; i <= NF; i++) line = line OFS $i
        print line
      }'
  } >"$out.tmp"
  if grep -v -i 'running as user "root"' "$PROFILE/err" | grep -q .; then
    echo "tshark complained about $cap:" >&2
    cat "$PROFILE/err" >&2
    rm -f "$out.tmp"
    return 1
  fi
  mv "$out.tmp" "$out"
  echo "    $(realpath --relative-to="$ROOT" "$out"): $(($(wc -l <"$out") - 2)) TCP frames"
}

if [ $# -gt 0 ]; then
  caps=("$@")
else
  mapfile -t caps < <({ find "$OUT" -mindepth 2 -maxdepth 2 \( -name '*.pcap' -o -name '*.pcapng' \);
    find "$ROOT/samples/scenarios" -maxdepth 1 \( -name '*.pcap' -o -name '*.pcapng' \); } | sort)
fi
echo "==> tshark golden ($VERSION)"
for c in "${caps[@]}"; do golden "$c"; done
