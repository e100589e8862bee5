#!/usr/bin/env bash
# Make the kernel-made sample captures under samples/kernel/ (issue 3).
#
#   sudo bash scripts/kernel/make-samples.sh            # all scenarios
#   sudo bash scripts/kernel/make-samples.sh keepalive  # only the named ones
#
# Real TCP between two network namespaces (tcpstate-client, tcpstate-server)
# joined by one veth pair (veth-c <-> veth-s). Addresses are documentation
# ranges and exist only inside those namespaces: 192.0.2.1 / 2001:db8::1 (client)
# and 192.0.2.2 / 2001:db8::2 (server); the spoofed SYN-flood sources are
# 192.0.2.128-151. No namespace has a default route, so nothing can leave.
# Just before each capture stops, `ss -tan` (and `ss -tanoi`) is taken in both
# namespaces: that is each endpoint's true state.
#
# Exits 0 with "skipped: ..." when not root, when namespaces cannot be made or
# when a tool is missing. Namespaces and helper processes are removed on exit,
# also on failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT="$ROOT/samples/kernel"
PEER="$HERE/peer.py"

NS_C=tcpstate-client
NS_S=tcpstate-server
IF_C=veth-c
IF_S=veth-s
MAC_C=02:00:00:00:02:01
MAC_S=02:00:00:00:02:02
C4=192.0.2.1
S4=192.0.2.2
C6=2001:db8::1
S6=2001:db8::2
SPOOF_FIRST=128   # spoofed SYN sources 192.0.2.128 ..
SPOOF_N=24        # .. 192.0.2.151
FILTER='tcp or arp or icmp or icmp6'

skip() { echo "skipped: $*"; exit 0; }

# ---------------------------------------------------------------- preflight
[ "$(id -u)" = 0 ] || skip "must run as root (sudo bash scripts/kernel/make-samples.sh)"
missing=""
for t in ip ss tcpdump tshark capinfos editcap hping3 nft ethtool python3 ping; do
  command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
[ -z "$missing" ] || skip "missing tools:$missing (Debian: apt-get install -y iproute2 tcpdump tshark hping3 nftables ethtool python3 iputils-ping)"
PY=$(command -v python3)
if ! ip netns add tcpstate-probe 2>/dev/null; then
  skip "cannot create network namespaces here (ip netns add failed)"
fi
if ! ip -n tcpstate-probe link add pa type veth peer name pb 2>/dev/null; then
  ip netns del tcpstate-probe 2>/dev/null || true
  skip "cannot create veth pairs here"
fi
ip netns del tcpstate-probe

WORK=$(mktemp -d /tmp/tcpstate-kernel.XXXXXX)
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
cleanup() {
  local rc=$?
  if [ -n "$CAP_PID" ]; then kill -INT "$CAP_PID" 2>/dev/null || true; wait "$CAP_PID" 2>/dev/null || true; fi
  kill_bg
  teardown_ns
  if [ $rc -ne 0 ]; then echo "make-samples: FAILED (rc=$rc); logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '==> %s\n' "$*"; }

# ---------------------------------------------------------------- topology
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
    ip -n "$ns" link set "$ifc" up
  done
  local i
  for i in $(seq 1 50); do
    ip -n "$NS_C" link show "$IF_C" | grep -q LOWER_UP && ip -n "$NS_S" link show "$IF_S" | grep -q LOWER_UP && break
    sleep 0.05
  done
  sleep 0.3  # let link-local IPv6 and MLD chatter happen before capturing
}

# run_bg NS LOGNAME CMD... : run CMD in NS in the background
run_bg() {
  local ns=$1 name=$2; shift 2
  ip netns exec "$ns" "$@" >>"$WORK/$SCEN.$name.log" 2>&1 &
  BG_PIDS+=($!)
  LAST_BG=$!
}
# run_fg NS LOGNAME CMD...
run_fg() {
  local ns=$1 name=$2; shift 2
  ip netns exec "$ns" "$@" >>"$WORK/$SCEN.$name.log" 2>&1
}

wait_listen() { # NS PORT
  local i
  for i in $(seq 1 100); do
    ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q . && return 0
    sleep 0.05
  done
  echo "no listener on port $2 in $1" >&2
  return 1
}

# start_capture NS IFACE FILE SNAPLEN FILTER [extra tcpdump args...]
start_capture() {
  local ns=$1 ifc=$2 file=$3 snap=$4 filter=$5; shift 5
  : >"$WORK/$SCEN.tcpdump.log"
  # shellcheck disable=SC2086
  ip netns exec "$ns" tcpdump -Z root -n -U --immediate-mode -B 8192 -i "$ifc" -s "$snap" -w "$file" "$@" $filter \
    2>"$WORK/$SCEN.tcpdump.log" &
  CAP_PID=$!
  local i
  for i in $(seq 1 100); do
    grep -q "listening on" "$WORK/$SCEN.tcpdump.log" && break
    sleep 0.05
  done
  grep -q "listening on" "$WORK/$SCEN.tcpdump.log" || { cat "$WORK/$SCEN.tcpdump.log" >&2; return 1; }
  sleep 0.1
}

stop_capture() {
  sleep 0.05
  kill -INT "$CAP_PID"
  wait "$CAP_PID" || true
  CAP_PID=""
  local dropped
  dropped=$(sed -n 's/^\([0-9]*\) packets* dropped by kernel.*/\1/p' "$WORK/$SCEN.tcpdump.log")
  if [ -n "$dropped" ] && [ "$dropped" != 0 ]; then
    echo "WARNING: $SCEN: tcpdump dropped $dropped packets" >&2
  fi
  grep -E 'captured|dropped' "$WORK/$SCEN.tcpdump.log" | sed 's/^/    tcpdump: /'
}

take_ss() {
  local t role ns
  t=$(date +%s.%N)
  for role in client server; do
    if [ $role = client ]; then ns=$NS_C; else ns=$NS_S; fi
    ip netns exec "$ns" ss -tan >"$DIR/ss-$role.txt"
    { echo "# ss -tanoi in namespace $ns at epoch $t"; ip netns exec "$ns" ss -tanoi; } >"$DIR/ss-$role-info.txt"
  done
}

# begin NAME: fresh namespaces and output dir
begin() {
  SCEN=$1
  DIR="$OUT/$SCEN"
  say "$SCEN"
  rm -rf "$DIR"
  mkdir -p "$DIR"
  setup_ns
}
# end_scenario: ss in both namespaces, then stop the capture, then tear down
end_scenario() {
  take_ss
  stop_capture
  kill_bg
  teardown_ns
  cat "$WORK/$SCEN".client.log "$WORK/$SCEN".server.log 2>/dev/null | sed "s/^/    /" || true
}
show_states() {
  sed 's/^/    client: /' "$DIR/ss-client.txt" | grep -v 'State' || true
  sed 's/^/    server: /' "$DIR/ss-server.txt" | grep -v 'State' | head -5 || true
}

# ---------------------------------------------------------------- scenarios
sc_seeds_server_closes() {
  begin seeds-server-closes
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" story-server --addr "$S4" --port 9090
  local srv=$LAST_BG
  wait_listen "$NS_S" 9090
  run_fg "$NS_C" client "$PY" "$PEER" story-client --addr "$S4" --port 9090 --bind "$C4" --bind-port 40001
  wait "$srv" || true
  sleep 0.3
  end_scenario
}

sc_client_closes() {
  begin client-closes
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" cc-server --addr "$S4" --port 9091
  local srv=$LAST_BG
  wait_listen "$NS_S" 9091
  run_fg "$NS_C" client "$PY" "$PEER" cc-client --addr "$S4" --port 9091 --bind "$C4" --bind-port 40002
  wait "$srv" || true
  sleep 0.3
  end_scenario
}

sc_stuck_close_wait() {
  begin stuck-close-wait
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" stuck-server --addr "$S4" --port 9092 --hold 30
  wait_listen "$NS_S" 9092
  run_fg "$NS_C" client "$PY" "$PEER" cc-client --addr "$S4" --port 9092 --bind "$C4" --bind-port 40003
  sleep 7  # the server application sits on the half-closed socket (past tcpstate's 5 s threshold)
  # A ping just before the capture stops: a pcap records no stop time, so without a later packet the
  # capture would seem to end with the last FIN/ACK and the 7 s in CLOSE-WAIT would not show.
  ip netns exec "$NS_C" ping -c 1 -W 1 "$S4" >/dev/null 2>&1 || true
  end_scenario
}

sc_refused() {
  begin refused
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_fg "$NS_C" client "$PY" "$PEER" refused-client --addr "$S4" --ports 9100,9101,9102,9103,9104
  sleep 0.2
  end_scenario
}

sc_abortive_close() {
  begin abortive-close
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" abort-server --addr "$S4" --port 9094 --hold 0.5
  local srv=$LAST_BG
  wait_listen "$NS_S" 9094
  run_fg "$NS_C" client "$PY" "$PEER" abort-client --addr "$S4" --port 9094 --bind "$C4" --bind-port 40005
  wait "$srv" || true
  sleep 0.2
  end_scenario
}

sc_bulk_loss() {
  begin bulk-loss
  # 1 in 20 data segments towards the receiver is dropped in its input hook,
  # after tcpdump has seen it (the tap comes first), so the capture holds
  # the original, the SACKed dup ACKs and the retransmission.
  ip netns exec "$NS_S" nft -f - <<'EOF'
table inet tcpstate_loss {
  chain input {
    type filter hook input priority filter; policy accept;
    tcp dport 9095 tcp flags & (syn | fin | rst) == 0 numgen random mod 20 0 counter drop
  }
}
EOF
  # a 100 Mbit/s bottleneck on the client's egress (tbf, queue up to 50 ms) so
  # that more than a handful of segments are in flight, as on a real path
  ip netns exec "$NS_C" tc qdisc replace dev "$IF_C" root tbf rate 100mbit burst 15k latency 50ms ||
    echo "    (tbf not available: no bottleneck)"
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 96 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" sink-server --addr "$S4" --port 9095
  local srv=$LAST_BG
  wait_listen "$NS_S" 9095
  run_fg "$NS_C" client "$PY" "$PEER" bulk-client --addr "$S4" --port 9095 --bind "$C4" --bind-port 40006 --bytes 786432
  wait "$srv" || true
  sleep 0.3
  ip netns exec "$NS_S" nft list table inet tcpstate_loss >"$DIR/nft-server.txt"
  ip netns exec "$NS_C" tc -s qdisc show dev "$IF_C" >"$DIR/tc-client.txt"
  end_scenario
}

sc_syn_flood() {
  begin syn-flood
  local i a
  # SYN-ACKs to the spoofed sources go to the client's MAC, where the
  # client namespace (not a router) silently drops them: no RST comes back,
  # so the server keeps the half-open connections in SYN-RECV.
  for i in $(seq "$SPOOF_FIRST" $((SPOOF_FIRST + SPOOF_N - 1))); do
    ip -n "$NS_S" neigh replace "192.0.2.$i" lladdr "$MAC_C" dev "$IF_S" nud permanent
  done
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 96 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" multi-server --addr "$S4" --port 9096 --backlog 128 --hold 30 --expect-request
  wait_listen "$NS_S" 9096
  local pids=()
  for i in $(seq "$SPOOF_FIRST" $((SPOOF_FIRST + SPOOF_N - 1))); do
    a="192.0.2.$i"
    ip netns exec "$NS_C" hping3 -q -I "$IF_C" -S -p 9096 -a "$a" -c 20 -i u20000 "$S4" \
      >>"$WORK/$SCEN.hping3.log" 2>&1 &
    pids+=($!)
  done
  sleep 0.1
  # three legitimate clients in the middle of the flood
  run_fg "$NS_C" client "$PY" "$PEER" multi-client --addr "$S4" --port 9096 --count 3 --gap 0.1 --expect-request
  for i in "${pids[@]}"; do wait "$i" || true; done
  # Let the SYN-ACK retransmission timer (1 s) run out twice over before ss and the end of the
  # capture, so the capture itself shows which SYN-ACKs had a socket behind them (retransmitted)
  # and which were SYN cookies (never retransmitted).
  sleep 2.5
  ip netns exec "$NS_S" nstat -asz TcpExtSyncookiesSent TcpExtTCPReqQFullDoCookies TcpExtListenDrops \
    TcpExtListenOverflows TcpExtTCPReqQFullDrop TcpPassiveOpens >"$DIR/nstat-server.txt" 2>/dev/null || true
  end_scenario
}

sc_keepalive() {
  begin keepalive
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" hold-server --addr "$S4" --port 9097 --hold 30
  wait_listen "$NS_S" 9097
  run_bg "$NS_C" client "$PY" "$PEER" ka-client --addr "$S4" --port 9097 --bind "$C4" --bind-port 40008 \
    --idle 1 --intvl 1 --cnt 5 --hold 30
  sleep 4.6  # idle 1 s, then a probe every second
  end_scenario
}

sc_zero_window() {
  begin zero-window
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" slow-reader-server --addr "$S4" --port 9098 --rcvbuf 2048 --read 16384 --hold 30
  wait_listen "$NS_S" 9098
  run_bg "$NS_C" client "$PY" "$PEER" writer-client --addr "$S4" --port 9098 --bind "$C4" --bind-port 40009 \
    --bytes 262144 --hold 30
  sleep 3.5  # receiver stopped reading; sender probes the zero window
  end_scenario
}

sc_time_wait_pileup() {
  begin time-wait-pileup
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 96 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" multi-server --addr "$S4" --port 9099 --backlog 128 --hold 30 --count 300
  local srv=$LAST_BG
  wait_listen "$NS_S" 9099
  run_fg "$NS_C" client "$PY" "$PEER" multi-client --addr "$S4" --port 9099 --count 300
  wait "$srv" || true
  sleep 0.3
  end_scenario
}

sc_ipv6_seeds_server_closes() {
  begin ipv6-seeds-server-closes
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" story-server --addr "$S6" --port 9090
  local srv=$LAST_BG
  wait_listen "$NS_S" 9090
  run_fg "$NS_C" client "$PY" "$PEER" story-client --addr "$S6" --port 9090 --bind "$C6" --bind-port 40011
  wait "$srv" || true
  sleep 0.3
  end_scenario
}

sc_sll2_any() {
  begin sll2-any
  # `tcpdump -i any` inside the server namespace: LINUX_SLL2 (276), no filter
  start_capture "$NS_S" any "$DIR/$SCEN.pcap" 128 "" -y LINUX_SLL2
  run_bg "$NS_S" server "$PY" "$PEER" cc-server --addr "$S4" --port 9091
  local srv=$LAST_BG
  wait_listen "$NS_S" 9091
  run_fg "$NS_C" client "$PY" "$PEER" cc-client --addr "$S4" --port 9091 --bind "$C4" --bind-port 40012
  wait "$srv" || true
  sleep 0.3
  end_scenario
}

sc_pcapng_nanosecond() {
  begin pcapng-nanosecond
  start_capture "$NS_S" "$IF_S" "$WORK/$SCEN.nano.pcap" 128 "$FILTER" --time-stamp-precision=nano
  run_bg "$NS_S" server "$PY" "$PEER" story-server --addr "$S4" --port 9090
  local srv=$LAST_BG
  wait_listen "$NS_S" 9090
  run_fg "$NS_C" client "$PY" "$PEER" story-client --addr "$S4" --port 9090 --bind "$C4" --bind-port 40013
  wait "$srv" || true
  sleep 0.3
  end_scenario
  # nanosecond pcap -> pcapng; the IDB keeps if_tsresol=9
  editcap -F pcapng "$WORK/$SCEN.nano.pcap" "$DIR/$SCEN.pcapng"
}

# ---------------------------------------------------------------- checks
# count HOST STATE [PORT]: sockets in STATE in ss-HOST.txt (local or peer PORT)
count() {
  awk -v st="$2" -v port="${3:-}" 'NR > 1 && $1 == st &&
    (port == "" || $4 ~ (":" port "$") || $5 ~ (":" port "$")) { n++ } END { print n + 0 }' "$DIR/ss-$1.txt"
}
# expect HOST STATE MIN [MAX] [PORT]
expect() {
  local n; n=$(count "$1" "$2" "${5:-}")
  if [ "$n" -lt "$3" ] || { [ -n "${4:-}" ] && [ "$n" -gt "$4" ]; }; then
    echo "    MISSED: $1 has $n x $2 (want ${3}..${4:-})"; MISSED=1
  fi
}
expect_empty() { # HOST: no socket at all
  if [ "$(awk 'NR > 1' "$DIR/ss-$1.txt" | wc -l)" != 0 ]; then echo "    MISSED: $1 is not empty"; MISSED=1; fi
}
expect_frames() { # DISPLAYFILTER MIN
  local n; n=$(tshark -r "$(ls "$DIR"/*.pcap* | head -1)" -n -Y "$1" 2>/dev/null | wc -l)
  if [ "$n" -lt "$2" ]; then echo "    MISSED: $n frames match '$1' (want >= $2)"; MISSED=1; fi
}
check_seeds_server_closes()      { expect server TIME-WAIT 1 1; expect_empty client; }
check_client_closes()            { expect client TIME-WAIT 1 1; expect_empty server; }
check_stuck_close_wait()         { expect client FIN-WAIT-2 1 1; expect server CLOSE-WAIT 1 1; }
check_refused()                  { expect_empty client; expect_empty server; expect_frames 'tcp.flags.reset == 1' 5; }
check_abortive_close()           { expect_empty client; expect_empty server; expect_frames 'tcp.flags.reset == 1' 1; }
check_bulk_loss()                { expect client TIME-WAIT 1 1; expect_frames 'tcp.analysis.retransmission' 5; expect_frames 'tcp.analysis.duplicate_ack' 10; }
check_syn_flood()                { expect server SYN-RECV 100; expect server TIME-WAIT 3 3; }
check_keepalive()                { expect client ESTAB 1 1; expect server ESTAB 1 1; expect_frames 'tcp.analysis.keep_alive' 3; }
check_zero_window()              { expect client ESTAB 1 1; expect server ESTAB 1 1; expect_frames 'tcp.analysis.zero_window' 2; }
check_time_wait_pileup()         { expect server TIME-WAIT 300 300; expect_empty client; }
check_ipv6_seeds_server_closes() { expect server TIME-WAIT 1 1; expect_empty client; }
check_sll2_any()                 { expect client TIME-WAIT 1 1; expect_empty server; }
check_pcapng_nanosecond()        { expect server TIME-WAIT 1 1; expect_empty client; }

ALL="seeds-server-closes client-closes stuck-close-wait refused abortive-close bulk-loss syn-flood
keepalive zero-window time-wait-pileup ipv6-seeds-server-closes sll2-any pcapng-nanosecond"
WANT=${*:-$ALL}

mkdir -p "$OUT"
start=$(date +%s)
for s in $WANT; do
  case " $(echo $ALL) " in *" $s "*) ;; *) echo "unknown scenario: $s" >&2; exit 2 ;; esac
  for attempt in 1 2 3; do
    "sc_${s//-/_}"
    show_states
    MISSED=0
    "check_${s//-/_}"
    [ $MISSED = 0 ] && break
    [ $attempt = 3 ] && { echo "$s: expected states not reached after 3 attempts" >&2; exit 1; }
    echo "    (timing missed, again)"
  done
done
# golden + manifest + README (manifest/README cover every scenario present)
bash "$HERE/tshark-golden.sh"
"$PY" "$HERE/manifest.py"
echo "done in $(( $(date +%s) - start )) s; $(du -sh "$OUT" | cut -f1) in $OUT"
