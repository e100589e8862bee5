# Sourced by make-samples.sh and make-bench-capture.sh: two network namespaces joined by one veth
# pair, and their teardown. The sourcing script sets NS_C, NS_S, IF_C, IF_S, MAC_C, MAC_S, C4, S4,
# C6, S6 and NAME (its own name, for messages) before it calls anything here.

skip() { echo "skipped: $*"; exit 0; }
say() { printf '==> %s\n' "$*"; }

# probe_netns PROBE_NAME: skip (exit 0) unless namespaces and veth pairs can be made here.
probe_netns() {
  if ! ip netns add "$1" 2>/dev/null; then
    skip "cannot create network namespaces here (ip netns add failed)"
  fi
  if ! ip -n "$1" link add pa type veth peer name pb 2>/dev/null; then
    ip netns del "$1" 2>/dev/null || true
    skip "cannot create veth pairs here"
  fi
  ip netns del "$1"
}

WORK=""
BG_PIDS=()
CAP_PID=""

teardown_ns() {
  ip netns del "$NS_C" 2>/dev/null || true
  ip netns del "$NS_S" 2>/dev/null || true
}
kill_bg() {
  local p
  for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  BG_PIDS=()
}
# On exit, also on failure: stop the capture and helpers, remove the namespaces; logs stay on failure.
cleanup() {
  local rc=$?
  if [ -n "$CAP_PID" ]; then kill -INT "$CAP_PID" 2>/dev/null || true; wait "$CAP_PID" 2>/dev/null || true; fi
  kill_bg
  teardown_ns
  if [ $rc -ne 0 ]; then echo "$NAME: FAILED (rc=$rc); logs kept in $WORK" >&2; elif [ -n "$WORK" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# setup_ns [SYSCTL=VALUE...]: both namespaces afresh, addressed, offloads off, links up; the
# sysctls given are set in both.
setup_ns() {
  teardown_ns
  ip netns add "$NS_C"
  ip netns add "$NS_S"
  ip link add "$IF_C" netns "$NS_C" address "$MAC_C" type veth peer name "$IF_S" netns "$NS_S" address "$MAC_S"
  local ns ifc a4 a6
  for ns in "$NS_C" "$NS_S"; do
    if [ "$ns" = "$NS_C" ]; then ifc=$IF_C a4=$C4 a6=$C6; else ifc=$IF_S a4=$S4 a6=$S6; fi
    ip -n "$ns" link set lo up
    # quiet, instant IPv6: no DAD wait, no router solicitations
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifc.accept_dad=0" "net.ipv6.conf.$ifc.router_solicitations=0"
    ip -n "$ns" addr add "$a4/24" dev "$ifc"
    ip -n "$ns" addr add "$a6/64" dev "$ifc" nodad
    # wire-sized segments, software checksums (no bad-checksum noise)
    ip netns exec "$ns" ethtool -K "$ifc" tso off gso off gro off tx off rx off >/dev/null 2>&1 ||
      ip netns exec "$ns" ethtool -K "$ifc" tso off gso off gro off >/dev/null
    if [ $# -gt 0 ]; then ip netns exec "$ns" sysctl -qw "$@"; fi
    ip -n "$ns" link set "$ifc" up
  done
  local i
  for i in $(seq 1 50); do
    ip -n "$NS_C" link show "$IF_C" | grep -q LOWER_UP && ip -n "$NS_S" link show "$IF_S" | grep -q LOWER_UP && break
    sleep 0.05
  done
  sleep 0.3  # let link-local IPv6 and MLD chatter happen before capturing
}
