#!/usr/bin/env bash
# Golden per-frame TCP sequence analysis (tcp.analysis.*) from tshark 4.0.17 for every
# capture of ../shared/oracle/zeek/traces and ../shared/corpus/formats, and for our own
# sequence-analysis scenarios in test/golden/seq-scenarios/ (written by
# scripts/golden/make-seq-scenarios.ts), one TSV per capture in
# test/golden/analysis/<capture>.tsv. Same options and columns as
# scripts/kernel/tshark-golden.sh (one pass, empty profile, analysis preferences spelled
# out, display filter `tcp and not icmp and not icmpv6`, -E occurrence=f): line 1 is a `#`
# comment with `tshark --version | head -1` and the options, line 2 the header.
# Used by scripts/seq-compare.ts and test/seq-analysis.test.ts.
#
#   bash scripts/golden/tshark-analysis.sh [capture ...]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SHARED=${TCPSTATE_SHARED:-$ROOT/../shared}
OUT="$ROOT/test/golden/analysis"

command -v tshark >/dev/null 2>&1 || { echo "tshark not installed (apt-get install tshark)" >&2; exit 1; }

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

FLAGS=(retransmission fast_retransmission spurious_retransmission out_of_order
  lost_segment ack_lost_segment duplicate_ack duplicate_ack_num duplicate_ack_frame
  keep_alive keep_alive_ack zero_window zero_window_probe zero_window_probe_ack
  window_update window_full reused_ports)
FIELDS=(frame.number frame.time_epoch ip.src ipv6.src tcp.srcport ip.dst ipv6.dst tcp.dstport
  tcp.stream tcp.flags tcp.seq_raw tcp.ack_raw tcp.len tcp.window_size_value)
for f in "${FLAGS[@]}"; do FIELDS+=("tcp.analysis.$f"); done
FIELDS+=(tcp.window_size_scalefactor tcp.analysis.initial_rtt)

EARGS=()
for f in "${FIELDS[@]}"; do EARGS+=(-e "$f"); done

HEADER="frame.number	frame.time_epoch	src	srcport	dst	dstport	tcp.stream	tcp.flags	tcp.seq_raw	tcp.ack_raw	tcp.len	tcp.window_size_value"
for f in "${FLAGS[@]}"; do HEADER="$HEADER	tcp.analysis.$f"; done
HEADER="$HEADER	tcp.window_size_scalefactor	tcp.analysis.initial_rtt"

golden() { # capture -> test/golden/analysis/<capture>.tsv
  local cap=$1 out
  out="$OUT/$(basename "$cap").tsv"
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
  caps=()
  for dir in "$SHARED/oracle/zeek/traces" "$SHARED/corpus/formats" "$ROOT/test/golden/seq-scenarios"; do
    for cap in "$dir"/*; do
      case "$cap" in *.tsv|*.md|*.zst) continue ;; esac # tshark 4.0 cannot read zstd
      caps+=("$cap")
    done
  done
fi
mkdir -p "$OUT"
echo "==> tshark analysis golden ($VERSION)"
for c in "${caps[@]}"; do golden "$c"; done
