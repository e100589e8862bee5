#!/usr/bin/env bash
# Golden per-frame TCP sequence analysis (tcp.analysis.*) from tshark 4.0.17 for every
# capture of ../shared/oracle/zeek/traces and ../shared/corpus/formats, and for our own
# sequence-analysis scenarios in test/golden/seq-scenarios/ (written by
# scripts/golden/make-seq-scenarios.ts) and fragment scenarios in test/golden/frag-scenarios/
# (scripts/golden/make-frag-scenarios.ts), one TSV per capture in
# test/golden/analysis/<capture>.tsv, made by scripts/kernel/tshark-golden.sh (the same
# options and columns as the kernel samples' goldens).
# Used by scripts/seq-compare.ts and test/seq-analysis.test.ts.
#
#   bash scripts/golden/tshark-analysis.sh [capture ...]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SHARED=${TCPSTATE_SHARED:-$ROOT/../shared}

if [ $# -gt 0 ]; then
  caps=("$@")
else
  caps=()
  for dir in "$SHARED/oracle/zeek/traces" "$SHARED/corpus/formats" "$ROOT/test/golden/seq-scenarios" "$ROOT/test/golden/frag-scenarios"; do
    for cap in "$dir"/*; do
      case "$cap" in *.tsv|*.md|*.zst) continue ;; esac # tshark 4.0 cannot read zstd
      caps+=("$cap")
    done
  done
fi
exec bash "$ROOT/scripts/kernel/tshark-golden.sh" --out-dir "$ROOT/test/golden/analysis" "${caps[@]}"
