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

NAME=make-samples
# shellcheck source=netns.sh
. "$HERE/netns.sh"

# ---------------------------------------------------------------- preflight
[ "$(id -u)" = 0 ] || skip "must run as root (sudo bash scripts/kernel/make-samples.sh)"
missing=""
for t in ip ss tcpdump tshark capinfos editcap hping3 nft ethtool python3 ping; do
  command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
[ -z "$missing" ] || skip "missing tools:$missing (Debian: apt-get install -y iproute2 tcpdump tshark hping3 nftables ethtool python3 iputils-ping)"
PY=$(command -v python3)
# scapy forges the RSTs and the bad ACK; it may live in another python3 than the first on PATH
SCAPY_PY=""
for p in "$PY" /usr/bin/python3 /usr/local/bin/python3; do
  [ -x "$p" ] && "$p" -c 'import scapy.all' >/dev/null 2>&1 && { SCAPY_PY=$p; break; }
done
[ -n "$SCAPY_PY" ] || skip "no python3 with scapy (Debian: apt-get install -y python3-scapy)"
FORGE="$HERE/forge.py"
probe_netns tcpstate-probe

WORK=$(mktemp -d /tmp/tcpstate-kernel.XXXXXX)

# ---------------------------------------------------------------- topology

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

# take_moment LABEL: `ss -tanoH` in both namespaces in the middle of a scenario (issue 18),
# into $DIR/moments/<n>-<role>.txt. Each file starts with "# moment <n> in namespace <ns>:
# LABEL", then "# before <epoch>" (date +%s.%N, the clock tcpdump stamps packets with),
# ss's rows, and "# after <epoch>": the kernel's table was read between the two.
take_moment() {
  MOMENT=$((MOMENT + 1))
  mkdir -p "$DIR/moments"
  local role ns
  for role in client server; do
    if [ $role = client ]; then ns=$NS_C; else ns=$NS_S; fi
    { echo "# moment $MOMENT in namespace $ns: $1"
      ip netns exec "$ns" sh -c 'echo "# before $(date +%s.%N)"; ss -tanoH; echo "# after $(date +%s.%N)"'
    } >"$DIR/moments/$MOMENT-$role.txt"
  done
  sed -n "s/^\([A-Z].*\)/    moment $MOMENT client: \1/p" "$DIR/moments/$MOMENT-client.txt"
  sed -n "s/^\([A-Z].*\)/    moment $MOMENT server: \1/p" "$DIR/moments/$MOMENT-server.txt" | grep -v LISTEN || true
}
# wait_estab NS PORT: until NS has an established connection to or from PORT (timings below
# count from there: Python takes a variable 0.1-0.3 s to start)
wait_estab() {
  local i
  for i in $(seq 1 200); do
    ip netns exec "$1" ss -Htn state established "( sport = :$2 or dport = :$2 )" | grep -q . && return 0
    sleep 0.02
  done
  echo "no connection on port $2 in $1" >&2
  return 1
}
# mark_end: a ping just before the capture stops. A pcap records no stop time: without a later
# packet the capture would seem to end with the last TCP segment, before the last moment.
mark_end() {
  ip netns exec "$NS_C" ping -c 1 -W 1 "$S4" >/dev/null 2>&1 || true
}
# nft_table NS NAME <<RULES: a table `inet tcpstate_NAME` in NS with the chains given on stdin
nft_table() {
  { echo "table inet tcpstate_$2 {"; cat; echo "}"; } | ip netns exec "$1" nft -f -
}
# nft_drop_table NS NAME ROLE: keep the table (with its counters) as nft-ROLE.txt, then delete it
nft_drop_table() {
  ip netns exec "$1" nft list table inet "tcpstate_$2" >>"$DIR/nft-$3.txt"
  ip netns exec "$1" nft delete table inet "tcpstate_$2"
}

# begin NAME: fresh namespaces and output dir
begin() {
  SCEN=$1
  DIR="$OUT/$SCEN"
  MOMENT=0
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

# ---------------------------------------------------------------- timeline scenarios (issue 18)
# Each takes `ss -tanoH` in both namespaces at 2-4 moments (take_moment) besides the end.
# tcpdump runs in the server namespace on veth-s, as above: a drop in the server's input
# hook comes after the capture point (the capture sees the packet, the server does not);
# a drop in the client's output hook comes before it (neither the capture nor the server
# sees the packet).

sc_forged_rst() {
  begin forged-rst
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" cc-server --addr "$S4" --port 9110
  wait_listen "$NS_S" 9110
  run_bg "$NS_C" client "$PY" "$PEER" talk-client --addr "$S4" --port 9110 --bind "$C4" --bind-port 40020 --hold 2.4
  sleep 0.5
  # from the client namespace, with the client's own tuple: the client's kernel never sees them
  run_fg "$NS_C" forge "$SCAPY_PY" "$FORGE" rst --pcap "$DIR/$SCEN.pcap" --src "$C4" --sport 40020 --dst "$S4" --dport 9110 --where out
  sleep 0.3
  take_moment "after an RST outside the server's window (ignored)"
  run_fg "$NS_C" forge "$SCAPY_PY" "$FORGE" rst --pcap "$DIR/$SCEN.pcap" --src "$C4" --sport 40020 --dst "$S4" --dport 9110 --where in
  sleep 0.3
  take_moment "after an RST inside the window, not at rcv_nxt (challenge ACK)"
  sleep 1.6  # the client closes at 2.4 s, the server 0.2 s later
  take_moment "after the FIN exchange"
  mark_end
  end_scenario
  sed 's/^/    /' "$WORK/$SCEN.forge.log"
}

sc_fin_behind_hole() {
  begin fin-behind-hole
  # the client's last data segment (100 bytes: IP length 20 + 32 + 100) is dropped in the
  # server's input, after the capture point, with its retransmissions, until the rule goes.
  # (Not on the client's output: a segment refused there counts as not sent, and the FIN
  # then rides on it, so no FIN would ever arrive first.)
  nft_table "$NS_S" hole <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    ip saddr 192.0.2.1 tcp dport 9111 ip length 152 counter drop
  }
RULES
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" slow-sink-server --addr "$S4" --port 9111 --hold 1.0
  wait_listen "$NS_S" 9111
  run_bg "$NS_C" client "$PY" "$PEER" hole-client --addr "$S4" --port 9111 --bind "$C4" --bind-port 40021
  wait_estab "$NS_S" 9111
  sleep 0.7  # data at 0, the lost 100 bytes at 0.3 s, the FIN at 0.32 s
  take_moment "the FIN has arrived, the 100 bytes before it have not (hole open)"
  sleep 0.4
  nft_drop_table "$NS_S" hole server
  sleep 0.9  # the RTO retransmission at ~1.7 s fills the hole: the server reads EOF, waits 1 s
  take_moment "the hole was filled: the server in CLOSE-WAIT for 1 s, the client in FIN-WAIT-2"
  sleep 1.1
  take_moment "the server closed"
  mark_end
  end_scenario
}

sc_syn_to_time_wait() {
  begin syn-to-time-wait
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" serve-server --addr "$S4" --port 9112 --count 2 --hold 10
  wait_listen "$NS_S" 9112
  run_bg "$NS_C" client "$PY" "$PEER" reuse-client --addr "$S4" --port 9112 --bind "$C4" --bind-port 40030 --gap 0.6
  sleep 0.3
  take_moment "the first connection is over: the server in TIME-WAIT"
  # the next SYN on the same tuple is dropped in the server's input, after the capture point
  nft_table "$NS_S" synloss <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    tcp dport 9112 tcp flags & (syn | ack) == syn counter drop
  }
RULES
  sleep 0.7  # the second connect() at ~0.6 s; its SYN is lost
  take_moment "the client's first SYN of the second connection was lost: SYN-SENT against TIME-WAIT"
  nft_drop_table "$NS_S" synloss server
  sleep 1.3  # the SYN retransmission at ~1.6 s meets the TIME-WAIT socket and opens a new connection
  mark_end
  end_scenario
}

sc_syn_sent_bad_ack() {
  begin syn-sent-bad-ack
  nft_table "$NS_S" synloss <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    tcp dport 9113 tcp flags & (syn | ack) == syn counter drop
  }
RULES
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" cc-server --addr "$S4" --port 9113
  wait_listen "$NS_S" 9113
  run_bg "$NS_C" client "$PY" "$PEER" talk-client --addr "$S4" --port 9113 --bind "$C4" --bind-port 40031 --hold 0.6
  sleep 0.3
  # from the server namespace: an ACK that acknowledges nothing the client sent
  run_fg "$NS_S" forge "$SCAPY_PY" "$FORGE" ack --src "$S4" --sport 9113 --dst "$C4" --dport 40031
  sleep 0.2
  take_moment "the client answered the bad ACK with an RST and is still SYN-SENT"
  nft_drop_table "$NS_S" synloss server
  sleep 0.8  # the SYN retransmission at 1 s is answered
  take_moment "connected after the SYN retransmission"
  sleep 0.8
  mark_end
  end_scenario
  sed 's/^/    /' "$WORK/$SCEN.forge.log"
}

sc_late_syncookie() {
  begin late-syncookie
  ip netns exec "$NS_S" sysctl -qw net.ipv4.tcp_syncookies=2  # always answer with a cookie
  # everything the client sends after its SYN is dropped on its own output for 2 s
  nft_table "$NS_C" ackloss <<'RULES'
  chain output {
    type filter hook output priority filter; policy accept;
    tcp dport 9114 tcp flags & syn == 0 counter drop
  }
RULES
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" cc-server --addr "$S4" --port 9114
  wait_listen "$NS_S" 9114
  run_bg "$NS_C" client "$PY" "$PEER" talk-client --addr "$S4" --port 9114 --bind "$C4" --bind-port 40032 --hold 1.0
  sleep 1.0
  take_moment "the client is ESTAB; the server sent a SYN cookie and has no socket"
  sleep 1.0
  nft_drop_table "$NS_C" ackloss client
  sleep 1.7  # the request's RTO retransmission (~3.1 s) carries the ACK: the server makes its socket
  take_moment "the retransmitted request carried the ACK: both ESTAB"
  sleep 1.0
  mark_end
  end_scenario
}

sc_ack_dropped() {
  begin ack-dropped
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" close-first-server --addr "$S4" --port 9115 --gap 0.6
  wait_listen "$NS_S" 9115
  run_bg "$NS_C" client "$PY" "$PEER" lingering-client --addr "$S4" --port 9115 --bind "$C4" --bind-port 40033 --hold 2.5
  wait_estab "$NS_S" 9115
  sleep 0.35  # request, answer and its ACK are through; the server closes at 0.6 s
  # the client's bare ACKs (the ACKs of the server's FIN) are dropped in the server's input,
  # after the capture point: the capture sees them, the server does not and retransmits its FIN
  nft_table "$NS_S" ackloss <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    tcp sport 40033 tcp flags & (syn | fin | rst | psh) == 0 counter drop
  }
RULES
  sleep 0.75
  take_moment "the ACKs of the server's FIN were lost after the capture point: FIN-WAIT-1 against CLOSE-WAIT"
  sleep 0.3
  nft_drop_table "$NS_S" ackloss server
  sleep 0.9  # the FIN retransmission at ~2 s is acknowledged, and this ACK gets through
  take_moment "a later ACK got through: FIN-WAIT-2 against CLOSE-WAIT"
  sleep 1.0  # the client closes at ~3.1 s
  mark_end
  end_scenario
}

sc_fin_timeout() {
  begin fin-timeout
  ip netns exec "$NS_C" sysctl -qw net.ipv4.tcp_fin_timeout=3
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" stuck-server --addr "$S4" --port 9116 --hold 4.5
  wait_listen "$NS_S" 9116
  run_bg "$NS_C" client "$PY" "$PEER" cc-client --addr "$S4" --port 9116 --bind "$C4" --bind-port 40034
  sleep 1.0
  take_moment "the orphaned client in FIN-WAIT-2, the server in CLOSE-WAIT"
  sleep 2.8  # tcp_fin_timeout (3 s) ends the client's FIN-WAIT-2 without a packet
  take_moment "the client's FIN-WAIT-2 timed out silently; the server still CLOSE-WAIT"
  sleep 1.2  # the server closes at ~4.6 s: its FIN meets no socket and gets an RST
  take_moment "the server's late FIN was answered with an RST"
  mark_end
  end_scenario
}

sc_syn_retries() {
  begin syn-retries
  ip netns exec "$NS_C" sysctl -qw net.ipv4.tcp_syn_retries=2
  nft_table "$NS_S" synloss <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    tcp dport 9117 counter drop
  }
RULES
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_C" client "$PY" "$PEER" try-connect-client --addr "$S4" --port 9117 --bind "$C4" --bind-port 40035
  sleep 0.5
  take_moment "SYN-SENT after the first SYN"
  sleep 3.0
  take_moment "SYN-SENT after two retransmissions"
  sleep 4.0  # tcp_syn_retries=2: gives up 7 s after the first SYN
  take_moment "the client gave up (ETIMEDOUT): no socket"
  mark_end
  end_scenario
}

sc_retries2_give_up() {
  begin retries2-give-up
  ip netns exec "$NS_C" sysctl -qw net.ipv4.tcp_retries2=3
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" hold-server --addr "$S4" --port 9118 --hold 30
  wait_listen "$NS_S" 9118
  run_bg "$NS_C" client "$PY" "$PEER" send-and-wait-client --addr "$S4" --port 9118 --bind "$C4" --bind-port 40036 --gap 0.4
  wait_estab "$NS_S" 9118
  sleep 0.2
  # the client black-holed: all it sends is dropped in the server's input, after the capture point
  nft_table "$NS_S" blackhole <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    ip saddr 192.0.2.1 tcp sport 40036 counter drop
  }
RULES
  sleep 1.0  # the 1000 bytes at 0.4 s, retransmitted at ~0.6, 1.0, 1.8, 3.4 s
  take_moment "the client retransmits into the black hole"
  sleep 6.0  # tcp_retries2=3: the RTO after the 4th retransmission (~6.6 s) gives up, no RST
  take_moment "the client gave up (no RST); the server still ESTAB"
  mark_end
  end_scenario
}

sc_close_wait_at_end() {
  begin close-wait-at-end
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" stuck-server --addr "$S4" --port 9119 --hold 30
  wait_listen "$NS_S" 9119
  run_bg "$NS_C" client "$PY" "$PEER" talk-client --addr "$S4" --port 9119 --bind "$C4" --bind-port 40037 --hold 0.6
  sleep 0.3
  take_moment "request answered: both ESTAB"
  sleep 0.8
  take_moment "the client closed: FIN-WAIT-2 against CLOSE-WAIT"
  sleep 0.5
  mark_end
  end_scenario
}

# ---------------------------------------------------------------- close paths
# Timed by the epoch clock: the peers take `--at EPOCH` (time.time()) for their scripted step,
# the generator sleeps until fixed offsets from the same instant (the namespaces share the clock).

# epoch_in SECONDS: the epoch time SECONDS from now
epoch_in() { awk -v now="$(date +%s.%N)" -v d="$1" 'BEGIN { printf "%.6f", now + d }'; }
# plus EPOCH SECONDS
plus() { awk -v t="$1" -v d="$2" 'BEGIN { printf "%.6f", t + d }'; }
# sleep_until EPOCH
sleep_until() {
  sleep "$(awk -v t="$1" -v now="$(date +%s.%N)" 'BEGIN { d = t - now; printf "%.6f", (d > 0 ? d : 0) }')"
}

# delay_out NS TUN IFACE SRC_MAC DST_MAC ADDR PEER SECONDS: NS's packets to PEER go through
# delay.py (the TUN device TUN, then IFACE SECONDS later): a fixed delay on the way out of NS,
# for a kernel without sch_netem. Its ARP is gone with it (a TUN route needs none).
delay_out() {
  local ns=$1 tun=$2 ifc=$3 smac=$4 dmac=$5 addr=$6 peer=$7 d=$8 i
  run_bg "$ns" "delay-$tun" "$PY" "$HERE/delay.py" --tun "$tun" --out "$ifc" --src-mac "$smac" --dst-mac "$dmac" --delay "$d"
  for i in $(seq 1 100); do ip -n "$ns" link show "$tun" >/dev/null 2>&1 && break; sleep 0.05; done
  ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$tun.disable_ipv6=1" \
    net.ipv4.conf.all.rp_filter=0 "net.ipv4.conf.$ifc.rp_filter=0"  # replies come in on IFACE, not TUN
  ip -n "$ns" link set "$tun" up
  ip -n "$ns" route add "$peer/32" dev "$tun" src "$addr"
}

sc_simultaneous_close() {
  begin simultaneous-close
  # 200 ms each way (delay.py on both ends' way out), so both FINs leave before either arrives.
  # The capture on veth-s sees the client's segments as they reach the server and the server's
  # as they leave its delay, 200 ms after the server sent them.
  delay_out "$NS_C" tun-c "$IF_C" "$MAC_C" "$MAC_S" "$C4" "$S4" 0.2
  delay_out "$NS_S" tun-s "$IF_S" "$MAC_S" "$MAC_C" "$S4" "$C4" 0.2
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 2.0)  # both shut down their sending side at t0
  run_bg "$NS_S" server "$PY" "$PEER" xclose-server --addr "$S4" --port 9120 --at "$t0"
  wait_listen "$NS_S" 9120
  run_bg "$NS_C" client "$PY" "$PEER" xclose-client --addr "$S4" --port 9120 --bind "$C4" --bind-port 40038 --at "$t0"
  sleep_until "$(plus "$t0" -0.4)"
  take_moment "request answered: both ESTAB"
  # t0: both FIN-WAIT-1; t0+0.2: each gets the other's FIN (CLOSING) and ACKs it; t0+0.4: TIME-WAIT
  sleep_until "$(plus "$t0" 0.27)"
  take_moment "the FINs crossed, their ACKs are on the way: both CLOSING"
  sleep_until "$(plus "$t0" 0.8)"
  take_moment "the ACKs arrived: both TIME-WAIT"
  mark_end
  end_scenario
}

sc_last_ack_lost() {
  begin last-ack-lost
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 1.5)  # the client closes at t0, the server at t0+0.5
  run_bg "$NS_S" server "$PY" "$PEER" close-at-server --addr "$S4" --port 9121 --at "$(plus "$t0" 0.5)"
  wait_listen "$NS_S" 9121
  run_bg "$NS_C" client "$PY" "$PEER" close-at-client --addr "$S4" --port 9121 --bind "$C4" --bind-port 40039 --at "$t0"
  sleep_until "$(plus "$t0" 0.3)"
  # the client's bare ACKs are dropped on its own output (before the capture point); in FIN-WAIT-2
  # the only one it sends is the ACK of the server's FIN
  nft_table "$NS_C" lastack <<'RULES'
  chain output {
    type filter hook output priority filter; policy accept;
    tcp sport 40039 tcp flags & (syn | fin | rst | psh) == 0 counter drop
  }
RULES
  take_moment "the client closed first: FIN-WAIT-2 against CLOSE-WAIT"
  sleep_until "$(plus "$t0" 0.54)"
  take_moment "the server's FIN got its ACK, dropped before the wire: LAST-ACK against TIME-WAIT"
  sleep_until "$(plus "$t0" 0.6)"
  nft_drop_table "$NS_C" lastack client
  sleep_until "$(plus "$t0" 1.1)"  # the FIN retransmission (RTO, ~0.2 s) is answered from TIME-WAIT
  take_moment "the FIN retransmission was answered: the server is gone, the client TIME-WAIT"
  mark_end
  end_scenario
}

sc_half_close_data() {
  begin half-close-data
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 1.0)  # the client connects, sends its request and shuts down at t0
  # the server writes 1000 bytes every 50 ms in CLOSE-WAIT until t0+1.1, then closes
  run_bg "$NS_S" server "$PY" "$PEER" stream-server --addr "$S4" --port 9122 --bytes 1000 --gap 0.05 --at "$(plus "$t0" 1.1)"
  wait_listen "$NS_S" 9122
  run_bg "$NS_C" client "$PY" "$PEER" halfclose-client --addr "$S4" --port 9122 --bind "$C4" --bind-port 40040 --at "$t0"
  sleep_until "$(plus "$t0" 0.4)"
  take_moment "the client shut down its side and reads: FIN-WAIT-2 against CLOSE-WAIT (sending)"
  sleep_until "$(plus "$t0" 0.8)"
  take_moment "still streaming in CLOSE-WAIT to FIN-WAIT-2"
  sleep_until "$(plus "$t0" 1.5)"
  mark_end
  end_scenario
}

sc_rst_to_time_wait() {
  begin rst-to-time-wait
  local rfc1337; rfc1337=$(ip netns exec "$NS_C" sysctl -n net.ipv4.tcp_rfc1337)
  [ "$rfc1337" = 0 ] || { echo "net.ipv4.tcp_rfc1337 is $rfc1337 in $NS_C, not the default 0" >&2; return 1; }
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 1.5)  # the client closes at t0, the server at t0+0.2
  run_bg "$NS_S" server "$PY" "$PEER" close-at-server --addr "$S4" --port 9123 --at "$(plus "$t0" 0.2)"
  wait_listen "$NS_S" 9123
  run_bg "$NS_C" client "$PY" "$PEER" close-at-client --addr "$S4" --port 9123 --bind "$C4" --bind-port 40041 --at "$t0"
  sleep_until "$(plus "$t0" 0.5)"
  take_moment "closed: the client in TIME-WAIT, the server gone"
  # from the server namespace, with the server's tuple, at the client's rcv_nxt (its last ACK's ack)
  run_fg "$NS_S" forge "$SCAPY_PY" "$FORGE" rst --pcap "$DIR/$SCEN.pcap" --src "$S4" --sport 9123 --dst "$C4" --dport 40041 --where at
  sleep 0.3
  take_moment "an RST at rcv_nxt killed the client's TIME-WAIT (tcp_rfc1337=0)"
  sleep 0.2
  mark_end
  end_scenario
  sed 's/^/    /' "$WORK/$SCEN.forge.log"
}

# ---------------------------------------------------------------- more state paths
# keep-alive to a dead peer, a full accept queue, an RST to SYN-RECV, an orphan's FIN
# retransmissions, a simultaneous open. Timed from one epoch instant, as the close paths.

sc_keepalive_dead_peer() {
  begin keepalive-dead-peer
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 1.0)  # the client connects at t0 with keep-alive 1 s idle, 1 s apart, 3 probes
  run_bg "$NS_S" server "$PY" "$PEER" answer-close-at-server --addr "$S4" --port 9124 --at "$(plus "$t0" 5.0)"
  wait_listen "$NS_S" 9124
  run_bg "$NS_C" client "$PY" "$PEER" ka-dead-client --addr "$S4" --port 9124 --bind "$C4" --bind-port 40042 \
    --idle 1 --intvl 1 --cnt 3 --hold 30 --at "$t0"
  sleep_until "$(plus "$t0" 0.4)"
  # the server stops answering: all the client sends is dropped in its input, after the capture point
  nft_table "$NS_S" dead <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    ip saddr 192.0.2.1 tcp sport 40042 counter drop
  }
RULES
  # probes about 1, 2 and 3 s after the answer; at about 4 s the third is unanswered: RST, ETIMEDOUT
  sleep_until "$(plus "$t0" 2.5)"
  take_moment "the client probes, the server does not answer: both ESTAB"
  sleep_until "$(plus "$t0" 4.6)"
  take_moment "the client gave up and sent an RST, dropped before the server: client gone, server ESTAB"
  nft_drop_table "$NS_S" dead server
  # the server closes at t0+5: its FIN finds no socket on the client and gets an RST
  sleep_until "$(plus "$t0" 5.6)"
  take_moment "the server's FIN was answered with an RST: both gone"
  mark_end
  end_scenario
}

sc_accept_queue_overflow() {
  begin accept-queue-overflow
  local aoo; aoo=$(ip netns exec "$NS_S" sysctl -n net.ipv4.tcp_abort_on_overflow)
  [ "$aoo" = 0 ] || { echo "net.ipv4.tcp_abort_on_overflow is $aoo in $NS_S, not the default 0" >&2; return 1; }
  # 200 ms on the server's way out (delay.py), so that two SYNs sent at once both reach the
  # listener before either handshake's ACK does; the capture sees the server's segments 200 ms late
  delay_out "$NS_S" tun-s "$IF_S" "$MAC_S" "$MAC_C" "$S4" "$C4" 0.2
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 1.0)
  # listen(1): the accept queue holds two (full when more than the backlog); never accept()ed
  run_bg "$NS_S" server "$PY" "$PEER" noaccept-server --addr "$S4" --port 9125 --backlog 1 --hold 30
  wait_listen "$NS_S" 9125
  # t0: one client, queued. t0+0.6: two at once; both SYNs make requests, the first ACK fills the
  # queue, the second is dropped (tcp_abort_on_overflow=0): that client is ESTAB, the server keeps
  # the request in SYN-RECV and retransmits its SYN-ACK (1 s, 3 s). t0+2: a fourth client's SYNs are
  # dropped while the queue is full (SYN-SENT).
  run_bg "$NS_C" client1 "$PY" "$PEER" burst-client --addr "$S4" --port 9125 --bind "$C4" --bind-port 40043 --count 1 --hold 30 --at "$t0"
  run_bg "$NS_C" client2 "$PY" "$PEER" burst-client --addr "$S4" --port 9125 --bind "$C4" --bind-port 40044 --count 2 --hold 30 --at "$(plus "$t0" 0.6)"
  run_bg "$NS_C" client3 "$PY" "$PEER" burst-client --addr "$S4" --port 9125 --bind "$C4" --bind-port 40046 --count 1 --hold 30 --at "$(plus "$t0" 2.0)"
  sleep_until "$(plus "$t0" 2.6)"
  take_moment "queue full: 2 queued ESTAB, one ACK dropped (client ESTAB, server SYN-RECV), a SYN dropped (SYN-SENT)"
  sleep_until "$(plus "$t0" 4.2)"
  take_moment "after the second SYN-ACK retransmission and the dropped SYN's retransmissions"
  sleep_until "$(plus "$t0" 4.5)"
  ip netns exec "$NS_S" nstat -asz TcpExtListenOverflows TcpExtListenDrops TcpExtSyncookiesSent TcpPassiveOpens >"$DIR/nstat-server.txt" 2>/dev/null || true
  mark_end
  end_scenario
  cat "$WORK/$SCEN".client?.log 2>/dev/null | sed "s/^/    /" || true
}

sc_syn_recv_client_rst() {
  begin syn-recv-client-rst
  ip netns exec "$NS_C" sysctl -qw net.ipv4.tcp_syn_retries=2
  # the server's SYN-ACKs are dropped in the client's input (after the capture point) until the
  # client has given up: then the next one finds no socket there and is answered with an RST
  nft_table "$NS_C" synackloss <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    tcp sport 9126 tcp flags & (syn | ack) == syn | ack counter drop
  }
RULES
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" noaccept-server --addr "$S4" --port 9126 --backlog 16 --hold 30
  wait_listen "$NS_S" 9126
  local t0; t0=$(epoch_in 0.3)
  run_bg "$NS_C" client "$PY" "$PEER" try-connect-client --addr "$S4" --port 9126 --bind "$C4" --bind-port 40048 --at "$t0"
  sleep_until "$(plus "$t0" 1.5)"
  take_moment "the SYN-ACKs are lost: client SYN-SENT, server SYN-RECV"
  # tcp_syn_retries=2: SYNs every second to about 5 s, connect() fails at about 7 s (no packet)
  sleep_until "$(plus "$t0" 7.4)"
  take_moment "the client gave up: no socket; the server still SYN-RECV"
  nft_drop_table "$NS_C" synackloss client
  # each SYN retransmission was answered at once and put the server's SYN-ACK timer back (2 s after
  # its first expiry); it fires about 2 s after the last SYN (dropped too), then 4 s later, about
  # 11.1 s: that SYN-ACK is answered with an RST, and the server drops its request
  sleep_until "$(plus "$t0" 11.8)"
  take_moment "the client's RST to the SYN-ACK ended the server's SYN-RECV"
  mark_end
  end_scenario
}

sc_orphan_fin_retries() {
  begin orphan-fin-retries
  ip netns exec "$NS_S" sysctl -qw net.ipv4.tcp_orphan_retries=2
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 1.0)  # the server writes 2000 bytes and closes at t0
  run_bg "$NS_S" server "$PY" "$PEER" answer-close-at-server --addr "$S4" --port 9127 --tail 2000 --at "$t0"
  wait_listen "$NS_S" 9127
  run_bg "$NS_C" client "$PY" "$PEER" talk-client --addr "$S4" --port 9127 --bind "$C4" --bind-port 40049 --hold 30
  wait_estab "$NS_S" 9127
  sleep_until "$(plus "$t0" -0.3)"
  # the client stops answering: all the server sends is dropped in the client's input, after the
  # capture point (the client's kernel gets nothing, so sends nothing)
  nft_table "$NS_C" deaf <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    ip saddr 192.0.2.2 tcp sport 9127 counter drop
  }
RULES
  sleep_until "$(plus "$t0" 0.5)"
  take_moment "the orphaned server retransmits its data and FIN: FIN-WAIT-1, the client ESTAB"
  # tcp_orphan_retries=2: gone (no packet) once (2^3 - 1) x 200 ms = 1.4 s have passed since the
  # first unacknowledged transmission, at the next retransmission timer
  sleep_until "$(plus "$t0" 3.5)"
  take_moment "the orphan gave up silently: the server's socket is gone, the client ESTAB"
  nft_drop_table "$NS_C" deaf client
  mark_end
  end_scenario
}

sc_simultaneous_open() {
  begin simultaneous-open
  # 200 ms each way (delay.py on both ends' way out), so both SYNs leave before either arrives
  delay_out "$NS_C" tun-c "$IF_C" "$MAC_C" "$MAC_S" "$C4" "$S4" 0.2
  delay_out "$NS_S" tun-s "$IF_S" "$MAC_S" "$MAC_C" "$S4" "$C4" 0.2
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 1.0)  # both connect() at t0
  run_bg "$NS_S" server "$PY" "$PEER" xopen --addr "$C4" --port 40050 --bind "$S4" --bind-port 9128 --hold 30 --at "$t0"
  run_bg "$NS_C" client "$PY" "$PEER" xopen --addr "$S4" --port 9128 --bind "$C4" --bind-port 40050 --hold 30 --at "$t0"
  # t0: both SYN-SENT (their SYNs in the delays, not yet on the wire); t0+0.2: each gets the
  # other's SYN (SYN-RECV) and answers with a SYN-ACK; t0+0.4: each gets the SYN-ACK (ESTAB)
  sleep_until "$(plus "$t0" 0.3)"
  take_moment "the SYNs crossed, the SYN-ACKs are on the way: both SYN-RECV"
  sleep_until "$(plus "$t0" 0.8)"
  take_moment "the SYN-ACKs arrived: both ESTAB"
  sleep_until "$(plus "$t0" 1.1)"
  mark_end
  end_scenario
}

# ---------------------------------------------------------------- round 3
# a full SYN queue without SYN cookies, a close with unread data, persist probes that give up,
# an RST in FIN-WAIT-2, loss on IPv6. Timed from one epoch instant, as the close paths.

sc_syn_backlog_full_no_cookies() {
  begin syn-backlog-full-no-cookies
  ip netns exec "$NS_S" sysctl -qw net.ipv4.tcp_syncookies=0 net.ipv4.tcp_max_syn_backlog=4
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 0.8)  # six clients connect at once (40051-40056)
  # listen(1): the SYN queue takes two requests (full once more than the backlog), the accept
  # queue two children (likewise); no cookies, so every other SYN is dropped. One accept() at
  # t0+2.5 frees a place in the accept queue.
  run_bg "$NS_S" server "$PY" "$PEER" accept-late-server --addr "$S4" --port 9129 --backlog 1 --hold 30 --at "$(plus "$t0" 2.5)"
  wait_listen "$NS_S" 9129
  run_bg "$NS_C" client "$PY" "$PEER" burst-client --addr "$S4" --port 9129 --bind "$C4" --bind-port 40051 --count 6 --hold 30 --at "$t0"
  # t0: two SYNs make requests, four are dropped (SYN queue full) and both handshakes complete
  # (accept queue full); the retransmitted SYNs (every second) are dropped until the accept() at
  # t0+2.5: at t0+3 two of them make requests; the first ACK fills the accept queue again, the
  # second is dropped (client ESTAB, server SYN-RECV); the other two SYNs are dropped
  sleep_until "$(plus "$t0" 0.5)"
  take_moment "two handshakes done, four SYNs dropped: ESTAB and SYN-SENT"
  sleep_until "$(plus "$t0" 2.3)"
  take_moment "their retransmissions were dropped too (accept queue full): two ESTAB, four SYN-SENT"
  sleep_until "$(plus "$t0" 3.5)"
  take_moment "one accept() made room: two SYN retransmissions answered, one ACK dropped (ESTAB against SYN-RECV)"
  sleep_until "$(plus "$t0" 4.6)"
  take_moment "the queue is full again: the other SYN retransmissions are dropped"
  ip netns exec "$NS_S" nstat -asz TcpExtListenOverflows TcpExtListenDrops TcpExtSyncookiesSent TcpExtTCPReqQFullDrop TcpPassiveOpens >"$DIR/nstat-server.txt" 2>/dev/null || true
  mark_end
  end_scenario
}

sc_close_with_unread_data() {
  begin close-with-unread-data
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 1.5)  # the server closes at t0 without having read the request
  run_bg "$NS_S" server "$PY" "$PEER" unread-close-server --addr "$S4" --port 9130 --at "$t0"
  wait_listen "$NS_S" 9130
  run_bg "$NS_C" client "$PY" "$PEER" wait-reply-client --addr "$S4" --port 9130 --bind "$C4" --bind-port 40057 --hold 1.0
  sleep_until "$(plus "$t0" -0.4)"
  take_moment "the request is unread in the server's receive buffer: both ESTAB"
  sleep_until "$(plus "$t0" 0.4)"
  take_moment "the server closed with unread data: an RST, not a FIN; both gone"
  sleep_until "$(plus "$t0" 1.3)"
  mark_end
  end_scenario
}

sc_persist_give_up() {
  begin persist-give-up
  ip netns exec "$NS_C" sysctl -qw net.ipv4.tcp_retries2=3
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" slow-reader-server --addr "$S4" --port 9131 --rcvbuf 2048 --read 16384 --hold 30
  wait_listen "$NS_S" 9131
  run_bg "$NS_C" client "$PY" "$PEER" writer-client --addr "$S4" --port 9131 --bind "$C4" --bind-port 40058 \
    --bytes 262144 --hold 30
  wait_estab "$NS_S" 9131
  sleep 0.5  # the window is closed; the client probes it and the server answers
  # the server stops answering: all the client sends is dropped in its input, after the capture point
  nft_table "$NS_S" deaf <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    ip saddr 192.0.2.1 tcp sport 40058 counter drop
  }
RULES
  sleep 1.0
  take_moment "the client's zero-window probes go unanswered: both ESTAB"
  # tcp_retries2=3: the persist timer gives up once three probes are unanswered (backoff doubles)
  local i
  for i in $(seq 1 300); do
    ip netns exec "$NS_C" ss -Htn "( dport = :9131 )" | grep -q . || break
    sleep 0.1
  done
  sleep 0.3
  take_moment "the client gave up probing (tcp_retries2): its socket is gone, the server ESTAB"
  nft_drop_table "$NS_S" deaf server
  mark_end
  end_scenario
}

sc_fin_wait_2_reset() {
  begin fin-wait-2-reset
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 1.0)  # the client connects, sends its request and shuts down at t0
  # the server writes 1000 bytes every 100 ms in CLOSE-WAIT until t0+1, then aborts (SO_LINGER {1,0})
  run_bg "$NS_S" server "$PY" "$PEER" stream-abort-server --addr "$S4" --port 9132 --bytes 1000 --gap 0.1 --at "$(plus "$t0" 1.0)"
  wait_listen "$NS_S" 9132
  run_bg "$NS_C" client "$PY" "$PEER" halfclose-client --addr "$S4" --port 9132 --bind "$C4" --bind-port 40059 --at "$t0"
  sleep_until "$(plus "$t0" 0.5)"
  take_moment "the client shut down its side and reads: FIN-WAIT-2 against CLOSE-WAIT (sending)"
  sleep_until "$(plus "$t0" 1.4)"
  take_moment "the server aborted: its RST ended the client's FIN-WAIT-2; both gone"
  mark_end
  end_scenario
}

sc_ipv6_loss() {
  begin ipv6-loss
  # 1 in 10 data segments towards the server is dropped in its input, after the capture point
  nft_table "$NS_S" loss <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    meta nfproto ipv6 tcp dport 9133 tcp flags & (syn | fin | rst) == 0 numgen random mod 10 0 counter drop
  }
RULES
  # a 2 Mbit/s bottleneck on the client's egress, so the 256 KiB take about a second
  ip netns exec "$NS_C" tc qdisc replace dev "$IF_C" root tbf rate 2mbit burst 15k latency 100ms
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" sink-server --addr "$S6" --port 9133
  wait_listen "$NS_S" 9133
  run_bg "$NS_C" client "$PY" "$PEER" bulk-client --addr "$S6" --port 9133 --bind "$C6" --bind-port 40060 --bytes 262144
  wait_estab "$NS_S" 9133
  sleep 0.5
  take_moment "the transfer is under way with losses: both ESTAB"
  local i
  for i in $(seq 1 200); do
    ip netns exec "$NS_S" ss -Htn "( sport = :9133 )" | grep -q . || break
    sleep 0.1
  done
  sleep 0.3
  take_moment "done: the client closed first (TIME-WAIT), the server gone"
  nft_drop_table "$NS_S" loss server
  ip netns exec "$NS_C" tc -s qdisc show dev "$IF_C" >"$DIR/tc-client.txt"
  mark_end
  end_scenario
}

# ---------------------------------------------------------------- round 4
# lost SYN-ACKs, a socket destroyed with ss -K, a TIME-WAIT reused by connect()

sc_synack_lost() {
  begin synack-lost
  # the SYN-ACKs of the first 1.4 s are dropped in the client's input (after the capture point,
  # counted in nft-client.txt): the first, and the two sent at about 1 s
  nft_table "$NS_C" synackloss <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    tcp sport 9134 tcp flags & (syn | ack) == syn | ack counter drop
  }
RULES
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" hold-server --addr "$S4" --port 9134 --hold 30
  wait_listen "$NS_S" 9134
  local t0; t0=$(epoch_in 0.3)
  run_bg "$NS_C" client "$PY" "$PEER" try-connect-client --addr "$S4" --port 9134 --bind "$C4" --bind-port 40061 --hold 30 --at "$t0"
  sleep_until "$(plus "$t0" 0.5)"
  take_moment "the first SYN-ACK was lost: client SYN-SENT, server SYN-RECV"
  # at about 1 s the server's SYN-ACK timer and the client's SYN retransmission (answered at once)
  # cross: both SYN-ACKs are lost too
  sleep_until "$(plus "$t0" 1.4)"
  take_moment "the SYN-ACKs sent at 1 s were lost too: client SYN-SENT, server SYN-RECV"
  nft_drop_table "$NS_C" synackloss client
  # the answer to the next SYN retransmission (about 2 s, linear SYN timeouts) gets through
  sleep_until "$(plus "$t0" 3.5)"
  take_moment "a later SYN-ACK got through: both ESTAB"
  mark_end
  end_scenario
}

sc_socket_killed() {
  begin socket-killed
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" hold-server --addr "$S4" --port 9135 --hold 30
  wait_listen "$NS_S" 9135
  run_bg "$NS_C" client "$PY" "$PEER" talk-client --addr "$S4" --port 9135 --bind "$C4" --bind-port 40062 --hold 30
  wait_estab "$NS_S" 9135
  sleep 0.5
  take_moment "an idle established connection: both ESTAB"
  # SOCK_DESTROY (CONFIG_INET_DIAG_DESTROY): tcp_abort() sends an RST and closes the server's socket
  ip netns exec "$NS_S" ss -K -tn state established "( sport = :9135 )" >"$DIR/ss-K-server.txt"
  sleep 0.3
  take_moment "ss -K destroyed the server's socket: its RST reset the client; both gone"
  sleep 0.3
  mark_end
  end_scenario
}

sc_tw_reuse_client() {
  begin tw-reuse-client
  ip netns exec "$NS_C" sysctl -qw net.ipv4.tcp_tw_reuse=1
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" cc-count-server --addr "$S4" --port 9136 --count 2 --hold 30
  wait_listen "$NS_S" 9136
  # at t0 the client connects, closes first, waits 1.5 s and connects again from 40063
  local t0; t0=$(epoch_in 0.5)
  run_bg "$NS_C" client "$PY" "$PEER" tw-reuse-client --addr "$S4" --port 9136 --bind "$C4" --bind-port 40063 --gap 1.5 --hold 30 --at "$t0"
  sleep_until "$(plus "$t0" 0.8)"
  take_moment "the client closed first: client TIME-WAIT, the server gone"
  sleep_until "$(plus "$t0" 2.2)"
  take_moment "connect() reused the TIME-WAIT socket (tcp_tw_reuse=1): both ESTAB"
  sleep 0.3
  mark_end
  end_scenario
}

sc_syn_new_isn_to_syn_recv() {
  begin syn-new-isn-to-syn-recv
  # all the client's segments but SYNs are dropped in its output (never on the wire): its
  # handshake ACK and its request are lost, so the server stays SYN-RECV while the client is ESTAB
  nft_table "$NS_C" ackloss <<'RULES'
  chain output {
    type filter hook output priority filter; policy accept;
    tcp sport 40064 tcp flags & syn == 0 counter drop
  }
RULES
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" noaccept-server --addr "$S4" --port 9137 --backlog 16 --hold 30
  wait_listen "$NS_S" 9137
  local t0; t0=$(epoch_in 0.3)
  run_bg "$NS_C" client "$PY" "$PEER" try-connect-client --addr "$S4" --port 9137 --bind "$C4" --bind-port 40064 --hold 30 --at "$t0"
  sleep_until "$(plus "$t0" 0.5)"
  take_moment "the handshake's ACK was lost: client ESTAB, server SYN-RECV"
  # a SYN on the same four-tuple with another ISN (the first + 2^31, outside the window): the
  # request sock answers with an ACK (tcp_check_req) and stays
  run_fg "$NS_C" forge "$SCAPY_PY" "$FORGE" syn --pcap "$DIR/$SCEN.pcap" --src "$C4" --sport 40064 --dst "$S4" --dport 9137 --offset 2147483648
  sleep 0.3
  take_moment "a SYN with another ISN was answered with an ACK: client ESTAB, server still SYN-RECV"
  nft_drop_table "$NS_C" ackloss client
  # the client's next retransmission of its request (or its ACK of a SYN-ACK) completes the handshake
  sleep_until "$(plus "$t0" 3.5)"
  take_moment "the client's retransmission got through: both ESTAB"
  mark_end
  end_scenario
}

sc_abort_on_overflow() {
  begin abort-on-overflow
  ip netns exec "$NS_S" sysctl -qw net.ipv4.tcp_abort_on_overflow=1
  # as in accept-queue-overflow: 200 ms on the server's way out (delay.py), so two SYNs sent at
  # once both make requests before either handshake's ACK arrives
  delay_out "$NS_S" tun-s "$IF_S" "$MAC_S" "$MAC_C" "$S4" "$C4" 0.2
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 1.0)
  run_bg "$NS_S" server "$PY" "$PEER" noaccept-server --addr "$S4" --port 9138 --backlog 1 --hold 30
  wait_listen "$NS_S" 9138
  # t0: one client, queued. t0+0.6: two at once; the first ACK fills the queue, the second finds
  # it full and is answered with an RST (tcp_abort_on_overflow=1): that client is gone
  run_bg "$NS_C" client1 "$PY" "$PEER" burst-client --addr "$S4" --port 9138 --bind "$C4" --bind-port 40065 --count 1 --hold 30 --at "$t0"
  run_bg "$NS_C" client2 "$PY" "$PEER" burst-client --addr "$S4" --port 9138 --bind "$C4" --bind-port 40066 --count 2 --hold 30 --at "$(plus "$t0" 0.6)"
  sleep_until "$(plus "$t0" 0.45)"
  take_moment "one client queued: ESTAB on both sides"
  sleep_until "$(plus "$t0" 1.3)"
  take_moment "the second burst: one queued, the other's ACK found the queue full and got an RST"
  sleep_until "$(plus "$t0" 2.0)"
  take_moment "the end: two queued connections, the aborted one gone"
  ip netns exec "$NS_S" nstat -asz TcpExtListenOverflows TcpExtListenDrops TcpPassiveOpens >"$DIR/nstat-server.txt" 2>/dev/null || true
  mark_end
  end_scenario
  cat "$WORK/$SCEN".client?.log 2>/dev/null | sed "s/^/    /" || true
}

sc_orphan_gets_data() {
  begin orphan-gets-data
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 1.0)  # the client connects, sends its request and close()s at t0
  # the server reads to the client's FIN (CLOSE-WAIT), then at t0+0.5 writes 1000 bytes: the
  # client's orphan (FIN-WAIT-2) answers data with an RST
  run_bg "$NS_S" server "$PY" "$PEER" eof-then-write-server --addr "$S4" --port 9139 --bytes 1000 --gap 0.05 --count 5 --at "$(plus "$t0" 0.5)"
  wait_listen "$NS_S" 9139
  run_bg "$NS_C" client "$PY" "$PEER" request-close-client --addr "$S4" --port 9139 --bind "$C4" --bind-port 40068 --at "$t0"
  sleep_until "$(plus "$t0" 0.3)"
  take_moment "the client closed after its request: FIN-WAIT-2 (orphan) against CLOSE-WAIT"
  sleep_until "$(plus "$t0" 0.9)"
  take_moment "the server's data got an RST from the orphan: both gone"
  mark_end
  end_scenario
}

sc_server_half_close() {
  begin server-half-close
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 1.0)  # the client connects at t0
  # the server greets and shuts down its sending side at once; the client reads to EOF and sends
  # 200 bytes every 50 ms ten times (0.5 s) in CLOSE-WAIT, then closes
  run_bg "$NS_S" server "$PY" "$PEER" greet-shut-server --addr "$S4" --port 9140
  wait_listen "$NS_S" 9140
  run_bg "$NS_C" client "$PY" "$PEER" send-after-eof-client --addr "$S4" --port 9140 --bind "$C4" --bind-port 40069 --count 10 --gap 0.05 --at "$t0"
  sleep_until "$(plus "$t0" 0.25)"
  take_moment "the server shut down first and reads: FIN-WAIT-2 against CLOSE-WAIT (sending)"
  sleep_until "$(plus "$t0" 1.0)"
  take_moment "the client closed: the server TIME-WAIT, the client gone"
  mark_end
  end_scenario
}

sc_ipv6_refused() {
  begin ipv6-refused
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" story-server --addr "$S6" --port 9141
  wait_listen "$NS_S" 9141
  run_fg "$NS_C" client "$PY" "$PEER" refused-client --addr "$S6" --ports 9199
  sleep 0.1
  take_moment "the SYN to port 9199 got an RST/ACK: no socket"
  run_fg "$NS_C" client "$PY" "$PEER" story-client --addr "$S6" --port 9141 --bind "$C6" --bind-port 40070
  sleep 0.4
  take_moment "the connection to port 9141 completed and closed: the server TIME-WAIT"
  mark_end
  end_scenario
}

# ---------------------------------------------------------------- round 6: ICMP errors and more
sc_icmp_port_unreachable() {
  begin icmp-port-unreachable
  # the server namespace answers SYNs to 9150 with ICMP port unreachable, before TCP sees them
  # (nftables reject, input hook)
  nft_table "$NS_S" unreach <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    ip daddr 192.0.2.2 tcp dport 9150 counter reject with icmp type port-unreachable
  }
RULES
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" story-server --addr "$S4" --port 9160
  wait_listen "$NS_S" 9160
  # over veth the ICMP comes back within the connect() call, while it still holds the socket lock:
  # tcp_v4_err only counts it (LockDroppedIcmps) and keeps a soft error, the client stays SYN-SENT;
  # the SYN retransmission at 1 s (from the timer, the socket not owned) gets the second ICMP,
  # which ends the connect()
  local t0; t0=$(epoch_in 0.5)
  run_bg "$NS_C" client1 "$PY" "$PEER" try-connect-client --addr "$S4" --port 9150 --bind "$C4" --bind-port 40071 --at "$t0"
  sleep_until "$(plus "$t0" 0.5)"
  take_moment "the SYN to port 9150 got an ICMP port unreachable while connect() held the socket: a soft error, the client still SYN-SENT"
  sleep_until "$(plus "$t0" 1.4)"
  take_moment "the SYN retransmission got a second ICMP port unreachable: connect() failed (ECONNREFUSED), no socket"
  run_fg "$NS_C" client "$PY" "$PEER" story-client --addr "$S4" --port 9160 --bind "$C4" --bind-port 40073
  sleep 0.4
  take_moment "the connection to port 9160 completed and closed: the server TIME-WAIT"
  nft_drop_table "$NS_S" unreach server
  ip netns exec "$NS_C" nstat -asz TcpExtLockDroppedIcmps TcpExtOutOfWindowIcmps IcmpInDestUnreachs >"$DIR/nstat-client.txt" 2>/dev/null || true
  mark_end
  end_scenario
  cat "$WORK/$SCEN".client1.log 2>/dev/null | sed "s/^/    /" || true
}

sc_icmpv6_admin_prohibited() {
  begin icmpv6-admin-prohibited
  # as icmp-port-unreachable over IPv6: SYNs to 9151 get ICMPv6 administratively prohibited
  nft_table "$NS_S" unreach <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    ip6 daddr 2001:db8::2 tcp dport 9151 counter reject with icmpv6 type admin-prohibited
  }
RULES
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" story-server --addr "$S6" --port 9161
  wait_listen "$NS_S" 9161
  local t0; t0=$(epoch_in 0.5)
  run_bg "$NS_C" client1 "$PY" "$PEER" try-connect-client --addr "$S6" --port 9151 --bind "$C6" --bind-port 40072 --at "$t0"
  sleep_until "$(plus "$t0" 0.5)"
  take_moment "the SYN to port 9151 got an ICMPv6 administratively prohibited while connect() held the socket: the client still SYN-SENT"
  sleep_until "$(plus "$t0" 1.4)"
  take_moment "the SYN retransmission got a second ICMPv6 administratively prohibited: connect() failed (EACCES), no socket"
  run_fg "$NS_C" client "$PY" "$PEER" story-client --addr "$S6" --port 9161 --bind "$C6" --bind-port 40084
  sleep 0.4
  take_moment "the connection to port 9161 completed and closed: the server TIME-WAIT"
  nft_drop_table "$NS_S" unreach server
  ip netns exec "$NS_C" nstat -asz TcpExtLockDroppedIcmps TcpExtOutOfWindowIcmps Icmp6InDestUnreachs >"$DIR/nstat-client.txt" 2>/dev/null || true
  mark_end
  end_scenario
  cat "$WORK/$SCEN".client1.log 2>/dev/null | sed "s/^/    /" || true
}

sc_icmp_host_unreachable() {
  begin icmp-host-unreachable
  nft_table "$NS_S" hostunreach <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    ip daddr 192.0.2.2 tcp dport 9152 counter reject with icmp type host-unreachable
  }
RULES
  # 50 ms on the client's way out (delay.py): the ICMP comes back after connect() went to sleep
  # (over bare veth it would come within the connect() call and be only a soft error, see
  # icmp-port-unreachable)
  delay_out "$NS_C" tun-c "$IF_C" "$MAC_C" "$MAC_S" "$C4" "$S4" 0.05
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" answer-lines-server --addr "$S4" --port 9153
  wait_listen "$NS_S" 9153
  run_fg "$NS_C" client "$PY" "$PEER" try-connect-client --addr "$S4" --port 9152 --bind "$C4" --bind-port 40074
  sleep 0.2
  take_moment "the SYN to port 9152 got an ICMP host unreachable: connect() failed (EHOSTUNREACH), no socket"
  local t0; t0=$(epoch_in 1.2)  # the client's second request on 9153 at t0
  run_bg "$NS_C" client2 "$PY" "$PEER" second-request-client --addr "$S4" --port 9153 --bind "$C4" --bind-port 40075 --hold 0.5 --at "$t0"
  wait_estab "$NS_S" 9153
  sleep_until "$(plus "$t0" -0.3)"
  # from now on what the client sends to 9153 is answered with ICMP host unreachable (after the
  # capture point): an ICMP error in ESTABLISHED is a soft error, the client keeps retransmitting
  nft_table "$NS_S" hostunreach2 <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    ip daddr 192.0.2.2 tcp dport 9153 counter reject with icmp type host-unreachable
  }
RULES
  sleep_until "$(plus "$t0" 0.75)"
  take_moment "the client's second request is answered with ICMP host unreachable: both still ESTAB, the client retransmits"
  nft_drop_table "$NS_S" hostunreach2 server
  sleep_until "$(plus "$t0" 1.15)"
  take_moment "the rule is gone, a retransmission got through and was answered: both ESTAB"
  # the client closes 0.5 s after the answer (client TIME-WAIT, the server LAST-ACK, then gone)
  sleep_until "$(plus "$t0" 2.2)"
  take_moment "the client closed first: client TIME-WAIT, the server gone"
  nft_drop_table "$NS_S" hostunreach server
  ip netns exec "$NS_C" nstat -asz TcpExtLockDroppedIcmps TcpExtOutOfWindowIcmps IcmpInDestUnreachs >"$DIR/nstat-client.txt" 2>/dev/null || true
  mark_end
  end_scenario
  cat "$WORK/$SCEN".client2.log 2>/dev/null | sed "s/^/    /" || true
}

sc_icmp_to_syn_recv() {
  begin icmp-to-syn-recv
  # icmp_ratelimit=0: every rejected SYN-ACK gets its ICMP (by default the client namespace would
  # send about one per second to the server after a burst of six, and a SYN-ACK without one keeps
  # its request alive)
  ip netns exec "$NS_C" sysctl -qw net.ipv4.tcp_syn_retries=2 net.ipv4.icmp_ratelimit=0
  # the client namespace rejects the server's SYN-ACKs before TCP sees them: from 9154 with ICMP
  # host unreachable, from 9155 with ICMP port unreachable (both after the capture point)
  nft_table "$NS_C" synackreject <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    tcp sport 9154 tcp flags & (syn | ack) == syn | ack counter reject with icmp type host-unreachable
    tcp sport 9155 tcp flags & (syn | ack) == syn | ack counter reject with icmp type port-unreachable
  }
RULES
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server1 "$PY" "$PEER" noaccept-server --addr "$S4" --port 9154 --backlog 16 --hold 30
  run_bg "$NS_S" server2 "$PY" "$PEER" noaccept-server --addr "$S4" --port 9155 --backlog 16 --hold 30
  wait_listen "$NS_S" 9154
  wait_listen "$NS_S" 9155
  local t0; t0=$(epoch_in 0.4)
  run_bg "$NS_C" client1 "$PY" "$PEER" try-connect-client --addr "$S4" --port 9154 --bind "$C4" --bind-port 40076 --at "$t0"
  run_bg "$NS_C" client2 "$PY" "$PEER" try-connect-client --addr "$S4" --port 9155 --bind "$C4" --bind-port 40077 --at "$t0"
  sleep_until "$(plus "$t0" 0.3)"
  take_moment "the first SYN-ACKs got ICMP errors: the request on 9154 (host unreachable) is gone, the one on 9155 (port unreachable) stays SYN-RECV"
  sleep_until "$(plus "$t0" 1.4)"
  take_moment "the SYN retransmissions made a new request on 9154, dropped again at the ICMP; 9155 still SYN-RECV"
  # tcp_syn_retries=2: SYNs every second to about 5 s, connect() fails at about 7 s (no packet)
  sleep_until "$(plus "$t0" 7.6)"
  take_moment "the clients gave up (ETIMEDOUT): no client socket; the server's request on 9155 still SYN-RECV"
  nft_drop_table "$NS_C" synackreject client
  mark_end
  end_scenario
  cat "$WORK/$SCEN".client?.log "$WORK/$SCEN".server?.log 2>/dev/null | sed "s/^/    /" || true
}

sc_tcp_fast_open() {
  begin tcp-fast-open
  ip netns exec "$NS_C" sysctl -qw net.ipv4.tcp_fastopen=3
  ip netns exec "$NS_S" sysctl -qw net.ipv4.tcp_fastopen=3
  # 200 ms on the client's way out (delay.py): the server answers a Fast Open request before the
  # handshake's last ACK arrives, so its answer leaves while its child socket is SYN-RECV
  delay_out "$NS_C" tun-c "$IF_C" "$MAC_C" "$MAC_S" "$C4" "$S4" 0.2
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" tfo-server --addr "$S4" --port 9156 --backlog 5 --count 2 --hold 30
  wait_listen "$NS_S" 9156
  # t0: the first connection (40078) asks for a cookie; t0+1.5: the second (40079) sends its
  # request in the SYN with the cookie. Each closes first 0.5 s after the answer.
  local t0; t0=$(epoch_in 0.5)
  run_bg "$NS_C" client "$PY" "$PEER" tfo-client --addr "$S4" --port 9156 --bind "$C4" --bind-port 40078 --count 2 --gap 1.5 --hold 0.5 --at "$t0"
  sleep_until "$(plus "$t0" 0.7)"
  take_moment "the first connection (cookie request, then the request) answered: both ESTAB"
  # the second SYN (with data) reaches the server at t0+1.7, its SYN-ACK and the answer leave at
  # once; the client's ACK reaches the server at t0+1.9
  sleep_until "$(plus "$t0" 1.8)"
  take_moment "a Fast Open request answered before the handshake's ACK arrived: the server SYN-RECV, the client ESTAB"
  sleep_until "$(plus "$t0" 2.05)"
  take_moment "the handshake's ACK arrived: both ESTAB"
  sleep_until "$(plus "$t0" 3.0)"
  take_moment "both connections closed by the client: client TIME-WAIT twice, the server gone"
  mark_end
  end_scenario
}

sc_listener_closed_with_queue() {
  begin listener-closed-with-queue
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 1.0)  # the clients connect at t0 and t0+0.1, the listener closes at t0+1
  run_bg "$NS_S" server "$PY" "$PEER" listen-close-at-server --addr "$S4" --port 9157 --backlog 4 --hold 30 --at "$(plus "$t0" 1.0)"
  wait_listen "$NS_S" 9157
  run_bg "$NS_C" client1 "$PY" "$PEER" queued-client --addr "$S4" --port 9157 --bind "$C4" --bind-port 40080 --count 1 --at "$t0"
  run_bg "$NS_C" client2 "$PY" "$PEER" queued-client --addr "$S4" --port 9157 --bind "$C4" --bind-port 40081 --count 0 --at "$(plus "$t0" 0.1)"
  sleep_until "$(plus "$t0" 0.6)"
  take_moment "two connections queued, never accepted, one request unread: ESTAB on both sides"
  sleep_until "$(plus "$t0" 1.3)"
  take_moment "the listener was closed: an RST to each queued connection, all gone"
  mark_end
  end_scenario
  cat "$WORK/$SCEN".client?.log 2>/dev/null | sed "s/^/    /" || true
}

sc_syn_in_established() {
  begin syn-in-established
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 5.0)  # the client closes first at t0
  run_bg "$NS_S" server "$PY" "$PEER" cc-server --addr "$S4" --port 9158
  wait_listen "$NS_S" 9158
  run_bg "$NS_C" client "$PY" "$PEER" close-at-client --addr "$S4" --port 9158 --bind "$C4" --bind-port 40082 --at "$t0"
  wait_estab "$NS_S" 9158
  sleep 0.5
  take_moment "after one exchange: both ESTAB"
  # a SYN with the client's tuple at the server's rcv_nxt + 1000 (inside its window): RFC 5961 4.2,
  # the server answers a challenge ACK and keeps the connection
  run_fg "$NS_C" forge "$SCAPY_PY" "$FORGE" syn-in --pcap "$DIR/$SCEN.pcap" --src "$C4" --sport 40082 --dst "$S4" --dport 9158
  sleep 0.3
  take_moment "a forged SYN inside the server's window got a challenge ACK: both still ESTAB"
  sleep_until "$(plus "$t0" 0.7)"
  take_moment "the client closed first: client TIME-WAIT, the server gone"
  mark_end
  end_scenario
}

sc_reuse_after_rst() {
  begin reuse-after-rst
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" rst-then-close-server --addr "$S4" --port 9159 --gap 0.3 --hold 30
  wait_listen "$NS_S" 9159
  # at t0 the client resets its connection (SO_LINGER {1,0}) and 0.3 s later connects again from
  # the same port; the server answers and closes first 0.3 s after that
  local t0; t0=$(epoch_in 1.0)
  run_bg "$NS_C" client "$PY" "$PEER" rst-reconnect-client --addr "$S4" --port 9159 --bind "$C4" --bind-port 40083 --gap 0.3 --at "$t0"
  sleep_until "$(plus "$t0" -0.3)"
  take_moment "after one exchange: both ESTAB"
  sleep_until "$(plus "$t0" 0.15)"
  take_moment "the client closed with SO_LINGER {1,0}: its RST ended both, nothing on the four-tuple"
  sleep_until "$(plus "$t0" 0.45)"
  take_moment "a new connection on the same four-tuple: both ESTAB"
  sleep_until "$(plus "$t0" 1.2)"
  take_moment "the server closed first: the server TIME-WAIT, the client gone"
  mark_end
  end_scenario
}

# ---------------------------------------------------------------- round 7
# a SYN below the old ISN to TIME-WAIT, RSTs in SYN-SENT, a server that forgot its socket
# (found by data, then by a keep-alive probe), a FIN riding on data

sc_syn_to_time_wait_low_isn() {
  begin syn-to-time-wait-low-isn
  local rfc1337; rfc1337=$(ip netns exec "$NS_S" sysctl -n net.ipv4.tcp_rfc1337)
  [ "$rfc1337" = 0 ] || { echo "net.ipv4.tcp_rfc1337 is $rfc1337 in $NS_S, not the default 0" >&2; return 1; }
  # the client's RSTs are dropped in its output (before the wire) until the second forged SYN
  nft_table "$NS_C" rstloss <<'RULES'
  chain output {
    type filter hook output priority filter; policy accept;
    tcp sport 40090 tcp flags & rst == rst counter drop
  }
RULES
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" serve-server --addr "$S4" --port 9170 --count 2 --hold 30
  wait_listen "$NS_S" 9170
  # at t0 the client connects from 40090 (the server answers and closes first), 5 s later again
  local t0; t0=$(epoch_in 0.5)
  run_bg "$NS_C" client "$PY" "$PEER" reuse-client --addr "$S4" --port 9170 --bind "$C4" --bind-port 40090 --gap 5.0 --at "$t0"
  sleep_until "$(plus "$t0" 0.5)"
  take_moment "the server closed first: the server TIME-WAIT, the client gone"
  # a SYN on the same four-tuple, its ISN 100000 below the first connection's (before the TIME-WAIT's
  # rcv_nxt, no timestamps): tcp_timewait_state_process answers with an ACK (TCP_TW_ACK); the
  # client's kernel (no socket) answers that with an RST, dropped in its output
  run_fg "$NS_C" forge "$SCAPY_PY" "$FORGE" syn --pcap "$DIR/$SCEN.pcap" --src "$C4" --sport 40090 --dst "$S4" --dport 9170 --offset=-100000
  sleep 0.3
  take_moment "a SYN below the old ISN got an ACK from TIME-WAIT; the client's RST never reached the wire: the server still TIME-WAIT"
  nft_drop_table "$NS_C" rstloss client
  sleep 0.3  # past the TIME-WAIT's out-of-window ACK rate limit (tcp_invalid_ratelimit, 0.5 s)
  run_fg "$NS_C" forge "$SCAPY_PY" "$FORGE" syn --pcap "$DIR/$SCEN.pcap" --src "$C4" --sport 40090 --dst "$S4" --dport 9170 --offset=-100000
  sleep 0.3
  take_moment "a second such SYN (100000 lower again): the ACK from TIME-WAIT got the client's RST, which killed the TIME-WAIT (tcp_rfc1337=0)"
  sleep_until "$(plus "$t0" 5.6)"
  take_moment "the client's next SYN connected; the server closed first again: the server TIME-WAIT"
  mark_end
  end_scenario
  sed 's/^/    /' "$WORK/$SCEN.forge.log"
}

sc_rst_in_syn_sent() {
  begin rst-in-syn-sent
  nft_table "$NS_S" synloss <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    tcp dport 9171 tcp flags & (syn | ack) == syn counter drop
  }
RULES
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 0.5)
  run_bg "$NS_C" client "$PY" "$PEER" try-connect-client --addr "$S4" --port 9171 --bind "$C4" --bind-port 40091 --at "$t0"
  sleep_until "$(plus "$t0" 0.3)"
  take_moment "the SYN was dropped in the server's input: the client SYN-SENT"
  # from the server namespace: an RST/ACK acknowledging ISN + 1001, more than the client sent:
  # tcp_rcv_synsent_state_process finds the ACK unacceptable and ignores the segment
  run_fg "$NS_S" forge "$SCAPY_PY" "$FORGE" rst-ack --pcap "$DIR/$SCEN.pcap" --src "$S4" --sport 9171 --dst "$C4" --dport 40091 --offset 1000
  sleep 0.3
  take_moment "an RST/ACK whose ACK is not ISN+1 was ignored: the client still SYN-SENT"
  run_fg "$NS_S" forge "$SCAPY_PY" "$FORGE" rst-ack --pcap "$DIR/$SCEN.pcap" --src "$S4" --sport 9171 --dst "$C4" --dport 40091 --offset 0
  sleep 0.3
  take_moment "an RST/ACK acknowledging ISN+1 was accepted: connection refused, the client's socket gone"
  nft_drop_table "$NS_S" synloss server
  mark_end
  end_scenario
  sed 's/^/    /' "$WORK/$SCEN.forge.log"
}

# silent_kill PORT: destroy the server's socket on PORT with ss -K while nftables in the server's
# output drops the RST tcp_abort() sends (never on the wire): the peer hears nothing
silent_kill() {
  nft_table "$NS_S" rstloss <<RULES
  chain output {
    type filter hook output priority filter; policy accept;
    tcp sport $1 tcp flags & rst == rst counter drop
  }
RULES
  ip netns exec "$NS_S" ss -K -tn state established "( sport = :$1 )" >"$DIR/ss-K-server.txt"
  sleep 0.05
  nft_drop_table "$NS_S" rstloss server
}

sc_server_lost_socket() {
  begin server-lost-socket
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" hold-server --addr "$S4" --port 9172 --hold 30
  wait_listen "$NS_S" 9172
  local t1; t1=$(epoch_in 1.6)  # the client's second request
  run_bg "$NS_C" client "$PY" "$PEER" late-request-client --addr "$S4" --port 9172 --bind "$C4" --bind-port 40092 --at "$t1"
  wait_estab "$NS_S" 9172
  sleep 0.3
  take_moment "an idle established connection: both ESTAB"
  silent_kill 9172
  sleep 0.1
  take_moment "ss -K destroyed the server's socket, its RST dropped before the wire: the server has none, the client ESTAB"
  sleep_until "$(plus "$t1" 0.3)"
  take_moment "the client's request found no socket: the server's RST reset the client, both gone"
  mark_end
  end_scenario
}

sc_keepalive_to_rebooted_peer() {
  begin keepalive-to-rebooted-peer
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" hold-server --addr "$S4" --port 9173 --hold 30
  wait_listen "$NS_S" 9173
  run_bg "$NS_C" client "$PY" "$PEER" ka-dead-client --addr "$S4" --port 9173 --bind "$C4" --bind-port 40093 --idle 1 --intvl 1 --cnt 5 --hold 10
  wait_estab "$NS_S" 9173
  sleep 0.2
  take_moment "an idle established connection, keep-alive 1 s: both ESTAB"
  silent_kill 9173
  sleep 0.1
  take_moment "ss -K destroyed the server's socket, its RST dropped before the wire: the server has none, the client ESTAB"
  sleep 1.2
  take_moment "the first keep-alive probe found no socket: the server's RST reset the client, both gone"
  mark_end
  end_scenario
}

sc_fin_with_data() {
  begin fin-with-data
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 1.0)  # the client connects at t0, its request and FIN in one segment
  run_bg "$NS_S" server "$PY" "$PEER" slow-sink-server --addr "$S4" --port 9174 --hold 0.5
  wait_listen "$NS_S" 9174
  run_bg "$NS_C" client "$PY" "$PEER" corked-fin-client --addr "$S4" --port 9174 --bind "$C4" --bind-port 40094 --at "$t0"
  sleep_until "$(plus "$t0" 0.25)"
  take_moment "the request and the FIN in one segment: the client FIN-WAIT-2, the server CLOSE-WAIT"
  sleep_until "$(plus "$t0" 1.0)"
  take_moment "the server answered and closed: the client TIME-WAIT, the server gone"
  mark_end
  end_scenario
}

# ---------------------------------------------------------------- round 8
# a client that lost its socket reconnects from the same port, TCP_USER_TIMEOUT, an RST from
# CLOSE-WAIT with unread data, forged RSTs to SYN-RECV, an ICMPv6 Packet Too Big

# silent_kill_client PORT: as silent_kill, on the client's side: destroy the client's socket to PORT
# with ss -K while nftables in the client's output drops the RST tcp_abort() sends
silent_kill_client() {
  nft_table "$NS_C" rstloss <<RULES
  chain output {
    type filter hook output priority filter; policy accept;
    tcp dport $1 tcp flags & rst == rst counter drop
  }
RULES
  ip netns exec "$NS_C" ss -K -tn state established "( dport = :$1 )" >"$DIR/ss-K-client.txt"
  sleep 0.05
  nft_drop_table "$NS_C" rstloss client
}

sc_client_lost_socket_reconnect() {
  begin client-lost-socket-reconnect
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" rst-then-close-server --addr "$S4" --port 9190 --gap 0.6 --hold 30
  wait_listen "$NS_S" 9190
  local t1; t1=$(epoch_in 1.5)  # the client application reconnects from the same port at t1
  run_bg "$NS_C" client "$PY" "$PEER" lost-reconnect-client --addr "$S4" --port 9190 --bind "$C4" --bind-port 40100 --at "$t1"
  wait_estab "$NS_S" 9190
  sleep 0.3
  take_moment "an idle established connection: both ESTAB"
  silent_kill_client 9190
  sleep 0.1
  take_moment "ss -K destroyed the client's socket, its RST dropped before the wire: the client has none, the server ESTAB"
  # the new SYN meets the server's ESTABLISHED socket: a challenge ACK (RFC 5961 4.2); the client in
  # SYN-SENT answers it with an RST <SEQ=SEG.ACK>, which resets the server's old connection, and
  # rearms its SYN timer to TCP_TIMEOUT_MIN: that SYN retransmission, a few ms later, is dropped in
  # the server's input (after the capture point; the quota lets the first SYN through), so the
  # client stays SYN-SENT until the next one, about 1 s later
  nft_table "$NS_S" synloss <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    tcp sport 40100 tcp flags & (syn | ack) == syn quota over 100 bytes counter drop
  }
RULES
  sleep_until "$(plus "$t1" 0.3)"
  take_moment "the new SYN got a challenge ACK, the client's RST reset the server's old connection: the client SYN-SENT, the server none"
  sleep_until "$(plus "$t1" 0.5)"
  nft_drop_table "$NS_S" synloss server
  sleep_until "$(plus "$t1" 1.35)"
  take_moment "the SYN retransmission connected: a new connection, both ESTAB"
  sleep_until "$(plus "$t1" 2.2)"
  mark_end
  end_scenario
}

sc_user_timeout_give_up() {
  begin user-timeout-give-up
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" hold-server --addr "$S4" --port 9191 --hold 30
  wait_listen "$NS_S" 9191
  run_bg "$NS_C" client "$PY" "$PEER" user-timeout-client --addr "$S4" --port 9191 --bind "$C4" --bind-port 40101 --gap 0.4 --user-timeout 1500
  wait_estab "$NS_S" 9191
  sleep 0.2
  # the client black-holed: all it sends is dropped in the server's input, after the capture point
  nft_table "$NS_S" blackhole <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    ip saddr 192.0.2.1 tcp sport 40101 counter drop
  }
RULES
  sleep 0.9  # the 1000 bytes at ~0.4 s, retransmitted at ~0.6, 1.0 s
  take_moment "the client retransmits into the black hole"
  sleep 1.4  # TCP_USER_TIMEOUT=1500 ms: the client gives up ~1.5 s after the data, no RST
  take_moment "the client gave up (TCP_USER_TIMEOUT, no RST); the server still ESTAB"
  sleep 3.0
  take_moment "seconds later: nothing more on the wire, the server still ESTAB"
  nft_drop_table "$NS_S" blackhole server
  mark_end
  end_scenario
}

sc_close_wait_unread_rst() {
  begin close-wait-unread-rst
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 1.0)  # the client connects, sends its request and shuts down at t0
  # the server never reads; at t0+0.5 it closes with the request unread (CLOSE-WAIT -> an RST)
  run_bg "$NS_S" server "$PY" "$PEER" unread-close-server --addr "$S4" --port 9192 --at "$(plus "$t0" 0.5)"
  wait_listen "$NS_S" 9192
  run_bg "$NS_C" client "$PY" "$PEER" halfclose-client --addr "$S4" --port 9192 --bind "$C4" --bind-port 40102 --at "$t0"
  sleep_until "$(plus "$t0" 0.3)"
  take_moment "the request and the client's FIN arrived, the server reads nothing: FIN-WAIT-2 against CLOSE-WAIT"
  sleep_until "$(plus "$t0" 0.8)"
  take_moment "the server closed with the request unread: an RST, not a FIN; both gone"
  sleep_until "$(plus "$t0" 1.2)"
  mark_end
  end_scenario
}

sc_rst_to_syn_recv_forged() {
  begin rst-to-syn-recv-forged
  # all the client sends but SYNs and RSTs is dropped in the server's input (after the capture
  # point): the handshake's ACK never arrives, the server keeps the request in SYN-RECV
  nft_table "$NS_S" ackloss <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    tcp sport 40103 tcp flags & (syn | rst) == 0 counter drop
  }
RULES
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" noaccept-server --addr "$S4" --port 9193 --backlog 16 --hold 30
  wait_listen "$NS_S" 9193
  local t0; t0=$(epoch_in 0.3)
  run_bg "$NS_C" client "$PY" "$PEER" try-connect-client --addr "$S4" --port 9193 --bind "$C4" --bind-port 40103 --hold 30 --at "$t0"
  sleep_until "$(plus "$t0" 0.3)"
  take_moment "the handshake's ACK was dropped: the client ESTAB, the server SYN-RECV"
  # from the client namespace with the client's tuple: an RST 2^30 past the request's rcv_nxt
  # (outside its window: tcp_check_req ignores it), then one at rcv_nxt (the request is dropped)
  run_fg "$NS_C" forge "$SCAPY_PY" "$FORGE" rst --pcap "$DIR/$SCEN.pcap" --src "$C4" --sport 40103 --dst "$S4" --dport 9193 --where out
  sleep 0.2
  take_moment "an RST outside the window was ignored: the server still SYN-RECV"
  run_fg "$NS_C" forge "$SCAPY_PY" "$FORGE" rst --pcap "$DIR/$SCEN.pcap" --src "$C4" --sport 40103 --dst "$S4" --dport 9193 --where at
  sleep 0.2
  take_moment "an RST at rcv_nxt dropped the request: the server has none, the client ESTAB"
  nft_drop_table "$NS_S" ackloss server
  # the client's next retransmission of its request (backed off: up to about 1.6 s away) reaches
  # the listener without a request: an RST
  local i
  for i in $(seq 1 80); do
    ip netns exec "$NS_C" ss -Htn "( dport = :9193 )" | grep -q . || break
    sleep 0.1
  done
  sleep 0.3
  mark_end
  end_scenario
  sed 's/^/    /' "$WORK/$SCEN.forge.log"
}

sc_icmpv6_packet_too_big() {
  begin icmpv6-packet-too-big
  # a link with MTU 1280 on the way: nftables in the server's input drops the client's IPv6 packets
  # over 1280 bytes (payload length over 1240), after the capture point; scapy in the server
  # namespace sends the ICMPv6 Packet Too Big such a router would, quoting the first of them
  nft_table "$NS_S" mtu <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    ip6 saddr 2001:db8::1 tcp sport 40104 ip6 length > 1240 counter drop
  }
RULES
  # a 4 Mbit/s bottleneck on the client's egress, so the 384 KiB take about a second
  ip netns exec "$NS_C" tc qdisc replace dev "$IF_C" root tbf rate 4mbit burst 15k latency 100ms
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" sink-server --addr "$S6" --port 9194
  wait_listen "$NS_S" 9194
  run_bg "$NS_C" client "$PY" "$PEER" bulk-client --addr "$S6" --port 9194 --bind "$C6" --bind-port 40104 --bytes 393216
  wait_estab "$NS_S" 9194
  sleep 0.15
  take_moment "the client's full-size segments are lost on the small link: both ESTAB"
  run_fg "$NS_S" forge "$SCAPY_PY" "$FORGE" ptb6 --pcap "$DIR/$SCEN.pcap" --src "$S6" --sport 9194 --dst "$C6" --dport 40104 --mtu 1280
  sleep 0.3
  take_moment "after the Packet Too Big the client sends 1280-byte packets: both ESTAB"
  local i
  for i in $(seq 1 200); do
    ip netns exec "$NS_S" ss -Htn "( sport = :9194 )" | grep -q . || break
    sleep 0.1
  done
  sleep 0.3
  take_moment "done: the client closed first (TIME-WAIT), the server gone"
  nft_drop_table "$NS_S" mtu server
  ip netns exec "$NS_C" tc -s qdisc show dev "$IF_C" >"$DIR/tc-client.txt"
  ip netns exec "$NS_C" ip -6 route get "$S6" >"$DIR/route-client.txt" 2>&1 || true
  mark_end
  end_scenario
  sed 's/^/    /' "$WORK/$SCEN.forge.log"
}

# ---------------------------------------------------------------- round 9
# a reused NAT port after a silent loss, close() into a zero window, the handshake's ACK lost under
# the first data, a simultaneous close with data, a SYN to CLOSE-WAIT after FIN-WAIT-2 timed out

sc_nat_port_reuse() {
  begin nat-port-reuse
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 1.6)  # the server writes to the dead connection at t0
  local t1; t1=$(plus "$t0" 0.8)  # the client application connects again from the same port at t1
  run_bg "$NS_S" server "$PY" "$PEER" late-write-server --addr "$S4" --port 9200 --at "$t0" --gap 0.6 --hold 30
  wait_listen "$NS_S" 9200
  run_bg "$NS_C" client "$PY" "$PEER" lost-reconnect-client --addr "$S4" --port 9200 --bind "$C4" --bind-port 40110 --at "$t1"
  wait_estab "$NS_S" 9200
  sleep 0.3
  take_moment "an idle established connection: both ESTAB"
  silent_kill_client 9200
  sleep 0.1
  take_moment "ss -K destroyed the client's socket, its RST dropped before the wire: the client has none, the server ESTAB"
  # the server's late data finds no socket on the client: an RST at its acknowledgment number
  sleep_until "$(plus "$t0" 0.3)"
  take_moment "the server's late data was answered with an RST: both gone"
  sleep_until "$(plus "$t1" 0.35)"
  take_moment "a new connection from the same port: both ESTAB"
  sleep_until "$(plus "$t1" 1.4)"  # the server closes first at t1+0.6: the end-of-capture ss shows its TIME-WAIT
  mark_end
  end_scenario
}

sc_zero_window_close() {
  begin zero-window-close
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 4.0)  # the server starts reading at t0
  run_bg "$NS_S" server "$PY" "$PEER" stall-then-drain-server --addr "$S4" --port 9201 --rcvbuf 2048 --at "$t0"
  wait_listen "$NS_S" 9201
  run_bg "$NS_C" client "$PY" "$PEER" close-blocked-client --addr "$S4" --port 9201 --bind "$C4" --bind-port 40111 --bytes 262144 --gap 0.5
  wait_estab "$NS_S" 9201
  # the client writes until blocked for 0.5 s, then close()s: FIN-WAIT-1 with its FIN queued
  sleep 1.2
  take_moment "the client closed with data unsent, the window closed: FIN-WAIT-1 against ESTAB"
  sleep_until "$(plus "$t0" -0.5)"
  take_moment "still probing the zero window: FIN-WAIT-1 against ESTAB"
  sleep_until "$(plus "$t0" 1.0)"
  take_moment "the server read everything and closed: the client TIME-WAIT, the server gone"
  mark_end
  end_scenario
}

sc_syn_ack_lost_data_first() {
  begin syn-ack-lost-data-first
  # the client's bare ACKs (flags exactly ACK) are dropped in the server's input, after the capture
  # point: the handshake's ACK never arrives; the request (PSH, ACK) gets through
  nft_table "$NS_S" ackloss <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    tcp sport 40112 tcp flags == ack counter drop
  }
RULES
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" answer-to-eof-server --addr "$S4" --port 9202
  wait_listen "$NS_S" 9202
  local t0; t0=$(epoch_in 0.8)  # the client connects at once and sends its request at t0
  run_bg "$NS_C" client "$PY" "$PEER" late-data-client --addr "$S4" --port 9202 --bind "$C4" --bind-port 40112 --at "$t0" --gap 0.5
  wait_estab "$NS_C" 9202
  sleep 0.3
  take_moment "the handshake's ACK was dropped: the client ESTAB, the server SYN-RECV"
  sleep_until "$(plus "$t0" 0.1)"
  take_moment "the request carried the ACK: both ESTAB"
  nft_drop_table "$NS_S" ackloss server
  sleep_until "$(plus "$t0" 1.0)"
  take_moment "the client closed first: the client TIME-WAIT, the server gone"
  mark_end
  end_scenario
}

sc_simultaneous_close_with_data() {
  begin simultaneous-close-with-data
  delay_out "$NS_C" tun-c "$IF_C" "$MAC_C" "$MAC_S" "$C4" "$S4" 0.2
  delay_out "$NS_S" tun-s "$IF_S" "$MAC_S" "$MAC_C" "$S4" "$C4" 0.2
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  local t0; t0=$(epoch_in 2.0)  # both write 3000 bytes and shut down their sending side at t0
  run_bg "$NS_S" server "$PY" "$PEER" xdata-server --addr "$S4" --port 9203 --at "$t0" --bytes 3000
  wait_listen "$NS_S" 9203
  run_bg "$NS_C" client "$PY" "$PEER" xdata-client --addr "$S4" --port 9203 --bind "$C4" --bind-port 40113 --at "$t0" --bytes 3000
  sleep_until "$(plus "$t0" -0.4)"
  take_moment "request answered: both ESTAB"
  sleep_until "$(plus "$t0" 0.1)"
  take_moment "data and FINs in flight both ways: both FIN-WAIT-1"
  sleep_until "$(plus "$t0" 0.3)"
  take_moment "each got the other's data and FIN with its own unacknowledged: both CLOSING"
  sleep_until "$(plus "$t0" 0.9)"
  take_moment "the ACKs arrived: both TIME-WAIT"
  mark_end
  end_scenario
}

sc_rst_after_fin_wait_2_timeout_reuse() {
  begin rst-after-fin-wait-2-timeout-reuse
  ip netns exec "$NS_C" sysctl -qw net.ipv4.tcp_fin_timeout=2
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" close-wait-then-serve-server --addr "$S4" --port 9204 --hold 30
  wait_listen "$NS_S" 9204
  local t1; t1=$(epoch_in 3.5)  # the client connects again from the same port at t1
  run_bg "$NS_C" client "$PY" "$PEER" close-then-reconnect-client --addr "$S4" --port 9204 --bind "$C4" --bind-port 40114 --at "$t1" --gap 0.5
  # the first connection is CLOSE-WAIT on the server within a millisecond: wait for that, not ESTAB
  local i
  for i in $(seq 1 200); do
    ip netns exec "$NS_S" ss -Htn state close-wait "( sport = :9204 )" | grep -q . && break
    sleep 0.02
  done
  sleep 0.5
  take_moment "the client closed first: the orphaned client FIN-WAIT-2, the server CLOSE-WAIT"
  sleep_until "$(plus "$t1" -0.4)"
  take_moment "the client's FIN-WAIT-2 timed out silently (tcp_fin_timeout=2): the client has none, the server CLOSE-WAIT"
  sleep_until "$(plus "$t1" 0.25)"
  take_moment "the new SYN got a challenge ACK, the client's RST reset the CLOSE-WAIT, the SYN retransmission connected: both ESTAB"
  sleep_until "$(plus "$t1" 1.2)"
  take_moment "the client closed first: the client TIME-WAIT, the server gone"
  mark_end
  end_scenario
}

# ---------------------------------------------------------------- round 10
# a SYN below the old ISN to an IPv6 TIME-WAIT, ICMP port unreachable in ESTABLISHED, an
# application's RST to a server still in SYN-RECV

sc_ipv6_syn_to_time_wait_low_isn() {
  begin ipv6-syn-to-time-wait-low-isn
  local rfc1337; rfc1337=$(ip netns exec "$NS_S" sysctl -n net.ipv4.tcp_rfc1337)
  [ "$rfc1337" = 0 ] || { echo "net.ipv4.tcp_rfc1337 is $rfc1337 in $NS_S, not the default 0" >&2; return 1; }
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" serve-server --addr "$S6" --port 9220 --count 2 --hold 30
  wait_listen "$NS_S" 9220
  # at t0 the client connects from 40120 (the server answers and closes first), 4 s later again
  local t0; t0=$(epoch_in 0.5)
  run_bg "$NS_C" client "$PY" "$PEER" reuse-client --addr "$S6" --port 9220 --bind "$C6" --bind-port 40120 --gap 4.0 --at "$t0"
  sleep_until "$(plus "$t0" 0.5)"
  take_moment "the server closed first: the server TIME-WAIT, the client gone"
  # a SYN on the same four-tuple 100000 below the first connection's ISN (no timestamps):
  # tcp_timewait_state_process answers with an ACK (TCP_TW_ACK); the client's kernel (no socket)
  # answers that with an RST at its acknowledgment number, which kills the TIME-WAIT (tcp_rfc1337=0)
  run_fg "$NS_C" forge "$SCAPY_PY" "$FORGE" syn --pcap "$DIR/$SCEN.pcap" --src "$C6" --sport 40120 --dst "$S6" --dport 9220 --offset=-100000
  sleep 0.3
  take_moment "a SYN below the old ISN got an ACK from TIME-WAIT, the client's RST killed the TIME-WAIT: the server has none"
  sleep_until "$(plus "$t0" 4.6)"
  take_moment "the client's own SYN connected; the server closed first again: the server TIME-WAIT"
  mark_end
  end_scenario
  sed 's/^/    /' "$WORK/$SCEN.forge.log"
}

sc_icmp_port_unreachable_after_data() {
  begin icmp-port-unreachable-after-data
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" answer-lines-server --addr "$S4" --port 9221
  wait_listen "$NS_S" 9221
  local t0; t0=$(epoch_in 1.0)  # the client's second request at t0
  run_bg "$NS_C" client "$PY" "$PEER" second-request-client --addr "$S4" --port 9221 --bind "$C4" --bind-port 40121 --hold 0.5 --at "$t0"
  wait_estab "$NS_S" 9221
  sleep_until "$(plus "$t0" -0.3)"
  # from now on what the client sends to 9221 is answered with ICMP port unreachable (after the
  # capture point): in ESTABLISHED a soft error (sk_err_soft, inet->recverr off), the client retransmits
  nft_table "$NS_S" portunreach <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    ip daddr 192.0.2.2 tcp dport 9221 counter reject with icmp type port-unreachable
  }
RULES
  sleep_until "$(plus "$t0" 0.75)"
  take_moment "the client's second request is answered with ICMP port unreachable: both still ESTAB, the client retransmits"
  nft_drop_table "$NS_S" portunreach server
  sleep_until "$(plus "$t0" 1.15)"
  take_moment "the rule is gone, a retransmission got through and was answered: both ESTAB"
  sleep_until "$(plus "$t0" 2.2)"
  take_moment "the client closed first: client TIME-WAIT, the server gone"
  mark_end
  end_scenario
}

sc_rst_ack_in_syn_recv_from_client_app() {
  begin rst-ack-in-syn-recv-from-client-app
  # all the client sends but SYNs and RSTs is dropped in the server's input (after the capture
  # point): the handshake's ACK never arrives, the server keeps the request in SYN-RECV
  nft_table "$NS_S" ackloss <<'RULES'
  chain input {
    type filter hook input priority filter; policy accept;
    tcp sport 40122 tcp flags & (syn | rst) == 0 counter drop
  }
RULES
  start_capture "$NS_S" "$IF_S" "$DIR/$SCEN.pcap" 128 "$FILTER"
  run_bg "$NS_S" server "$PY" "$PEER" noaccept-server --addr "$S4" --port 9222 --backlog 16 --hold 30
  wait_listen "$NS_S" 9222
  local t0; t0=$(epoch_in 0.3)
  # connects at once; closes with SO_LINGER {1,0} at t0 + 1.5 (after the server's first SYN/ACK
  # retransmission at 1 s, whose duplicate ACK is dropped too)
  run_bg "$NS_C" client "$PY" "$PEER" linger-abort-client --addr "$S4" --port 9222 --bind "$C4" --bind-port 40122 --at "$(plus "$t0" 1.5)"
  sleep_until "$(plus "$t0" 0.3)"
  take_moment "the handshake's ACK was dropped: the client ESTAB, the server SYN-RECV"
  sleep_until "$(plus "$t0" 1.3)"
  take_moment "the SYN/ACK was retransmitted, its ACK dropped too: the client ESTAB, the server SYN-RECV"
  sleep_until "$(plus "$t0" 1.8)"
  take_moment "the client application closed with SO_LINGER {1,0}: its RST/ACK (at rcv_nxt) dropped the request; neither has a socket"
  nft_drop_table "$NS_S" ackloss server
  mark_end
  end_scenario
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
expect_no_frames() { # DISPLAYFILTER
  local n; n=$(tshark -r "$(ls "$DIR"/*.pcap* | head -1)" -n -Y "$1" 2>/dev/null | wc -l)
  if [ "$n" != 0 ]; then echo "    MISSED: $n frames match '$1' (want none)"; MISSED=1; fi
}
# moment N HOST STATE MIN [MAX]: sockets in STATE in moment N's ss of HOST
at_moment() {
  local n; n=$(awk -v st="$3" '!/^#/ && $1 == st { n++ } END { print n + 0 }' "$DIR/moments/$1-$2.txt")
  if [ "$n" -lt "$4" ] || { [ -n "${5:-}" ] && [ "$n" -gt "$5" ]; }; then
    echo "    MISSED: moment $1: $2 has $n x $3 (want ${4}..${5:-})"; MISSED=1
  fi
}
check_forged_rst()        { at_moment 1 server ESTAB 1 1; at_moment 2 server ESTAB 1 1; expect client TIME-WAIT 1 1; expect_frames 'tcp.flags.reset == 1' 2; }
check_fin_behind_hole()   { at_moment 1 client FIN-WAIT-1 1 1; at_moment 1 server ESTAB 1 1; expect client TIME-WAIT 1 1; }
check_syn_to_time_wait()  { at_moment 1 server TIME-WAIT 1 1; at_moment 2 client SYN-SENT 1 1; at_moment 2 server TIME-WAIT 1 1; expect server TIME-WAIT 1 1; expect_frames 'tcp.flags == 0x012' 2; }
check_syn_sent_bad_ack()  { at_moment 1 client SYN-SENT 1 1; at_moment 2 client ESTAB 1 1; expect client TIME-WAIT 1 1; expect_frames 'tcp.flags.reset == 1' 1; }
check_late_syncookie()    { at_moment 1 client ESTAB 1 1; at_moment 1 server ESTAB 0 0; at_moment 2 server ESTAB 1 1; }
check_ack_dropped()       { at_moment 1 server FIN-WAIT-1 1 1; at_moment 2 server FIN-WAIT-2 1 1; expect server TIME-WAIT 1 1; }
check_fin_timeout()       { at_moment 1 client FIN-WAIT-2 1 1; at_moment 2 client FIN-WAIT-2 0 0; at_moment 2 server CLOSE-WAIT 1 1; expect_empty server; expect_frames 'tcp.flags.reset == 1' 1; }
check_syn_retries()       { at_moment 2 client SYN-SENT 1 1; expect_empty client; expect_frames 'tcp.flags == 0x002' 3; }
check_retries2_give_up()  { at_moment 1 client ESTAB 1 1; expect_empty client; expect server ESTAB 1 1; }
check_close_wait_at_end() { at_moment 1 client ESTAB 1 1; expect client FIN-WAIT-2 1 1; expect server CLOSE-WAIT 1 1; }

# nft_dropped ROLE MIN: the nft table kept as nft-ROLE.txt counted at least MIN drops
nft_dropped() {
  local n; n=$(sed -n 's/.*counter packets \([0-9]*\) .*/\1/p' "$DIR/nft-$1.txt" | head -1)
  if [ "${n:-0}" -lt "$2" ]; then echo "    MISSED: nft-$1.txt counted ${n:-0} drops (want >= $2)"; MISSED=1; fi
}
check_simultaneous_close() { at_moment 1 client ESTAB 1 1; at_moment 2 client CLOSING 1 1; at_moment 2 server CLOSING 1 1; at_moment 3 client TIME-WAIT 1 1; at_moment 3 server TIME-WAIT 1 1; expect client TIME-WAIT 1 1; expect server TIME-WAIT 1 1; expect_frames 'tcp.flags.fin == 1' 2; }
check_last_ack_lost()     { at_moment 1 client FIN-WAIT-2 1 1; at_moment 1 server CLOSE-WAIT 1 1; at_moment 2 server LAST-ACK 1 1; at_moment 2 client TIME-WAIT 1 1; at_moment 3 server LAST-ACK 0 0; nft_dropped client 1; expect client TIME-WAIT 1 1; expect_empty server; expect_frames 'tcp.flags.fin == 1 && tcp.srcport == 9121 && tcp.analysis.retransmission' 1; }
check_half_close_data()   { at_moment 1 client FIN-WAIT-2 1 1; at_moment 1 server CLOSE-WAIT 1 1; at_moment 2 client FIN-WAIT-2 1 1; at_moment 2 server CLOSE-WAIT 1 1; expect client TIME-WAIT 1 1; expect_empty server; expect_frames 'tcp.srcport == 9122 && tcp.len > 0' 15; }
check_rst_to_time_wait()  { at_moment 1 client TIME-WAIT 1 1; at_moment 1 server TIME-WAIT 0 0; at_moment 2 client TIME-WAIT 0 0; expect_empty client; expect_empty server; expect_frames 'tcp.flags.reset == 1' 1; }
check_keepalive_dead_peer()  { at_moment 1 client ESTAB 1 1; at_moment 1 server ESTAB 1 1; at_moment 2 client ESTAB 0 0; at_moment 2 server ESTAB 1 1; at_moment 3 server ESTAB 0 0; expect_empty client; expect_empty server; nft_dropped server 3; expect_frames 'tcp.analysis.keep_alive && tcp.srcport == 40042' 3; expect_frames 'tcp.flags.reset == 1 && tcp.srcport == 40042' 2; }
check_accept_queue_overflow() { at_moment 1 client ESTAB 3 3; at_moment 1 client SYN-SENT 1 1; at_moment 1 server ESTAB 2 2; at_moment 1 server SYN-RECV 1 1; at_moment 2 server SYN-RECV 1 1; at_moment 2 client ESTAB 3 3; expect_frames 'tcp.flags == 0x012 && tcp.dstport == 40045' 3; expect_frames 'tcp.flags == 0x002 && tcp.srcport == 40046' 2; }
check_syn_recv_client_rst()  { at_moment 1 client SYN-SENT 1 1; at_moment 1 server SYN-RECV 1 1; at_moment 2 client SYN-SENT 0 0; at_moment 2 server SYN-RECV 1 1; at_moment 3 server SYN-RECV 0 0; expect_empty client; nft_dropped client 3; expect_frames 'tcp.flags.reset == 1 && tcp.srcport == 40048' 1; }
check_orphan_fin_retries()   { at_moment 1 server FIN-WAIT-1 1 1; at_moment 1 client ESTAB 1 1; at_moment 2 server FIN-WAIT-1 0 0; at_moment 2 client ESTAB 1 1; expect client ESTAB 1 1; nft_dropped client 3; expect_frames 'tcp.srcport == 9127 && tcp.analysis.retransmission' 2; expect_no_frames 'tcp.flags.reset == 1'; }
check_simultaneous_open()    { at_moment 1 client SYN-RECV 1 1; at_moment 1 server SYN-RECV 1 1; at_moment 2 client ESTAB 1 1; at_moment 2 server ESTAB 1 1; expect client ESTAB 1 1; expect server ESTAB 1 1; expect_frames 'tcp.flags == 0x002' 2; expect_frames 'tcp.flags == 0x012' 2; }

check_syn_backlog_full_no_cookies() { at_moment 1 client ESTAB 2 2; at_moment 1 client SYN-SENT 4 4; at_moment 1 server ESTAB 2 2; at_moment 2 client SYN-SENT 4 4; at_moment 3 client ESTAB 4 4; at_moment 3 client SYN-SENT 2 2; at_moment 3 server ESTAB 3 3; at_moment 3 server SYN-RECV 1 1; at_moment 4 client SYN-SENT 2 2; at_moment 4 server SYN-RECV 1 1; expect_frames 'tcp.flags == 0x002 && tcp.analysis.retransmission' 8; expect_frames 'tcp.flags == 0x012' 4; expect_no_frames 'tcp.flags.reset == 1'; }
check_close_with_unread_data() { at_moment 1 client ESTAB 1 1; at_moment 1 server ESTAB 1 1; at_moment 2 client ESTAB 0 0; at_moment 2 server ESTAB 0 0; expect_empty client; expect_frames 'tcp.flags.reset == 1 && tcp.srcport == 9130' 1; expect_no_frames 'tcp.flags.fin == 1'; }
check_persist_give_up() { at_moment 1 client ESTAB 1 1; at_moment 1 server ESTAB 1 1; at_moment 2 client ESTAB 0 0; at_moment 2 server ESTAB 1 1; nft_dropped server 3; expect_frames 'tcp.analysis.zero_window' 1; }
check_fin_wait_2_reset() { at_moment 1 client FIN-WAIT-2 1 1; at_moment 1 server CLOSE-WAIT 1 1; at_moment 2 client FIN-WAIT-2 0 0; at_moment 2 server CLOSE-WAIT 0 0; expect_empty client; expect_empty server; expect_frames 'tcp.flags.reset == 1 && tcp.srcport == 9132' 1; expect_frames 'tcp.srcport == 9132 && tcp.len > 0' 5; }
check_ipv6_loss() { at_moment 1 client ESTAB 1 1; at_moment 1 server ESTAB 1 1; at_moment 2 client TIME-WAIT 1 1; expect client TIME-WAIT 1 1; expect_empty server; nft_dropped server 3; expect_frames 'tcp.analysis.retransmission' 3; expect_frames 'ipv6' 100; }

check_synack_lost() { at_moment 1 client SYN-SENT 1 1; at_moment 1 server SYN-RECV 1 1; at_moment 2 client SYN-SENT 1 1; at_moment 2 server SYN-RECV 1 1; at_moment 3 client ESTAB 1 1; at_moment 3 server ESTAB 1 1; expect client ESTAB 1 1; expect server ESTAB 1 1; nft_dropped client 2; expect_frames 'tcp.flags == 0x012' 3; expect_frames 'tcp.flags == 0x002' 2; }
check_socket_killed() { at_moment 1 client ESTAB 1 1; at_moment 1 server ESTAB 1 1; at_moment 2 client ESTAB 0 0; at_moment 2 server ESTAB 0 0; expect_empty client; expect_frames 'tcp.flags.reset == 1 && tcp.srcport == 9135' 1; expect_no_frames 'tcp.flags.fin == 1'; }
check_tw_reuse_client() { at_moment 1 client TIME-WAIT 1 1; at_moment 2 client TIME-WAIT 0 0; at_moment 2 client ESTAB 1 1; at_moment 2 server ESTAB 1 1; expect client ESTAB 1 1; expect_frames 'tcp.flags == 0x002' 2; expect_no_frames 'tcp.flags.reset == 1'; }

check_syn_new_isn_to_syn_recv() { at_moment 1 client ESTAB 1 1; at_moment 1 server SYN-RECV 1 1; at_moment 2 client ESTAB 1 1; at_moment 2 server SYN-RECV 1 1; at_moment 3 client ESTAB 1 1; at_moment 3 server ESTAB 1 1; nft_dropped client 1; expect_frames 'tcp.flags == 0x002' 2; expect_no_frames 'tcp.flags.reset == 1'; }

check_abort_on_overflow() { at_moment 1 client ESTAB 1 1; at_moment 1 server ESTAB 1 1; at_moment 2 client ESTAB 2 2; at_moment 2 server ESTAB 2 2; at_moment 3 client ESTAB 2 2; at_moment 3 server ESTAB 2 2; expect_frames 'tcp.flags.reset == 1 && tcp.srcport == 9138' 1; expect_no_frames 'tcp.flags.reset == 1 && tcp.srcport != 9138'; }
check_orphan_gets_data() { at_moment 1 client FIN-WAIT-2 1 1; at_moment 1 server CLOSE-WAIT 1 1; at_moment 2 client FIN-WAIT-2 0 0; at_moment 2 server CLOSE-WAIT 0 0; expect_empty client; expect_frames 'tcp.flags.reset == 1 && tcp.srcport == 40068' 1; expect_frames 'tcp.srcport == 9139 && tcp.len > 0' 1; }
check_server_half_close() { at_moment 1 client CLOSE-WAIT 1 1; at_moment 1 server FIN-WAIT-2 1 1; at_moment 2 server TIME-WAIT 1 1; expect_empty client; expect server TIME-WAIT 1 1; expect_frames 'tcp.srcport == 40069 && tcp.len > 0' 8; expect_no_frames 'tcp.flags.reset == 1'; }
check_ipv6_refused() { at_moment 2 server TIME-WAIT 1 1; expect_empty client; expect server TIME-WAIT 1 1; expect_frames 'tcp.flags.reset == 1 && tcp.srcport == 9199' 1; expect_frames 'ipv6 && tcp.flags == 0x002' 2; }

# at_port N HOST STATE PORT MIN [MAX]: sockets in STATE with local or peer PORT in moment N's ss of HOST
at_port() {
  local n; n=$(awk -v st="$3" -v port="$4" '!/^#/ && $1 == st && ($4 ~ (":" port "$") || $5 ~ (":" port "$")) { n++ } END { print n + 0 }' "$DIR/moments/$1-$2.txt")
  if [ "$n" -lt "$5" ] || { [ -n "${6:-}" ] && [ "$n" -gt "$6" ]; }; then
    echo "    MISSED: moment $1: $2 has $n x $3 on port $4 (want ${5}..${6:-})"; MISSED=1
  fi
}
# expect_log LOGNAME TEXT: a peer's log says TEXT
expect_log() {
  grep -q "$2" "$WORK/$SCEN.$1.log" 2>/dev/null || { echo "    MISSED: $1's log lacks '$2'"; MISSED=1; }
}
check_icmp_port_unreachable() { at_moment 1 client SYN-SENT 1 1; at_moment 2 client SYN-SENT 0 0; at_moment 3 server TIME-WAIT 1 1; expect_empty client; expect server TIME-WAIT 1 1; expect_log client1 'Connection refused'; expect_frames 'icmp.type == 3 && icmp.code == 3' 2; expect_no_frames 'tcp.flags.reset == 1'; }
check_icmpv6_admin_prohibited() { at_moment 1 client SYN-SENT 1 1; at_moment 2 client SYN-SENT 0 0; at_moment 3 server TIME-WAIT 1 1; expect_empty client; expect server TIME-WAIT 1 1; expect_log client1 'Permission denied'; expect_frames 'icmpv6.type == 1 && icmpv6.code == 1' 2; expect_no_frames 'tcp.flags.reset == 1'; }
check_icmp_host_unreachable() { at_moment 1 client SYN-SENT 0 0; at_moment 2 client ESTAB 1 1; at_moment 2 server ESTAB 1 1; at_moment 3 client ESTAB 1 1; at_moment 3 server ESTAB 1 1; at_moment 4 client TIME-WAIT 1 1; expect client TIME-WAIT 1 1; expect_empty server; expect_log client 'No route to host'; expect_log client2 'GET /again'; expect_frames 'icmp.type == 3 && icmp.code == 1' 3; expect_frames 'tcp.srcport == 40075 && tcp.analysis.retransmission' 2; expect_no_frames 'tcp.flags.reset == 1'; }
check_icmp_to_syn_recv() { at_moment 1 client SYN-SENT 2 2; at_port 1 server SYN-RECV 9154 0 0; at_port 1 server SYN-RECV 9155 1 1; at_moment 2 client SYN-SENT 2 2; at_port 2 server SYN-RECV 9154 0 0; at_port 2 server SYN-RECV 9155 1 1; at_moment 3 client SYN-SENT 0 0; at_port 3 server SYN-RECV 9155 1 1; at_port 3 server SYN-RECV 9154 0 0; expect_empty client; expect_frames 'icmp.type == 3 && icmp.code == 1' 2; expect_frames 'icmp.type == 3 && icmp.code == 3' 2; expect_no_frames 'tcp.flags.reset == 1'; }
check_tcp_fast_open() { at_moment 1 client ESTAB 1 1; at_moment 1 server ESTAB 1 1; at_moment 2 client ESTAB 1 1; at_moment 2 server SYN-RECV 1 1; at_moment 3 client ESTAB 1 1; at_moment 3 server ESTAB 1 1; at_moment 4 client TIME-WAIT 2 2; expect client TIME-WAIT 2 2; expect_frames 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.len > 0' 1; expect_frames 'tcp.options.tfo' 3; expect_no_frames 'tcp.flags.reset == 1'; }
check_listener_closed_with_queue() { at_moment 1 client ESTAB 2 2; at_moment 1 server ESTAB 2 2; at_moment 2 client ESTAB 0 0; at_moment 2 server ESTAB 0 0; expect_empty client; expect_log client1 'Connection reset'; expect_log client2 'Connection reset'; expect_frames 'tcp.flags.reset == 1 && tcp.srcport == 9157' 2; expect_no_frames 'tcp.flags.fin == 1'; }
check_syn_in_established() { at_moment 1 client ESTAB 1 1; at_moment 1 server ESTAB 1 1; at_moment 2 client ESTAB 1 1; at_moment 2 server ESTAB 1 1; at_moment 3 client TIME-WAIT 1 1; expect client TIME-WAIT 1 1; expect_frames 'tcp.flags == 0x002 && tcp.srcport == 40082' 2; expect_no_frames 'tcp.flags.reset == 1'; }
check_reuse_after_rst() { at_moment 1 client ESTAB 1 1; at_moment 1 server ESTAB 1 1; at_moment 2 client ESTAB 0 0; at_moment 2 server ESTAB 0 0; at_moment 3 client ESTAB 1 1; at_moment 3 server ESTAB 1 1; at_moment 4 server TIME-WAIT 1 1; expect server TIME-WAIT 1 1; expect_empty client; expect_frames 'tcp.flags.reset == 1 && tcp.srcport == 40083' 1; expect_frames 'tcp.flags == 0x002 && tcp.srcport == 40083' 2; }
check_syn_to_time_wait_low_isn() { at_moment 1 server TIME-WAIT 1 1; at_moment 1 client ESTAB 0 0; at_moment 2 server TIME-WAIT 1 1; at_moment 3 server TIME-WAIT 0 0; at_moment 4 server TIME-WAIT 1 1; expect server TIME-WAIT 1 1; expect_empty client; nft_dropped client 1; expect_frames 'tcp.flags == 0x002 && tcp.srcport == 40090' 4; expect_frames 'tcp.flags == 0x010 && tcp.srcport == 9170 && tcp.len == 0' 2; expect_frames 'tcp.flags.reset == 1 && tcp.srcport == 40090' 1; }
check_rst_in_syn_sent() { at_moment 1 client SYN-SENT 1 1; at_moment 2 client SYN-SENT 1 1; at_moment 3 client SYN-SENT 0 0; expect_empty client; nft_dropped server 1; expect_log client 'Connection refused'; expect_frames 'tcp.flags == 0x014 && tcp.srcport == 9171' 2; expect_frames 'tcp.flags == 0x002 && tcp.srcport == 40091' 2; }
check_server_lost_socket() { at_moment 1 client ESTAB 1 1; at_moment 1 server ESTAB 1 1; at_moment 2 client ESTAB 1 1; at_moment 2 server ESTAB 0 0; at_moment 3 client ESTAB 0 0; expect_empty client; expect_empty server; nft_dropped server 1; expect_log client 'Connection reset'; expect_frames 'tcp.flags.reset == 1 && tcp.srcport == 9172' 1; expect_no_frames 'tcp.flags.fin == 1'; }
check_keepalive_to_rebooted_peer() { at_moment 1 client ESTAB 1 1; at_moment 1 server ESTAB 1 1; at_moment 2 client ESTAB 1 1; at_moment 2 server ESTAB 0 0; at_moment 3 client ESTAB 0 0; expect_empty client; expect_empty server; nft_dropped server 1; expect_log client 'Connection reset'; expect_frames 'tcp.analysis.keep_alive && tcp.srcport == 40093' 1; expect_frames 'tcp.flags.reset == 1 && tcp.srcport == 9173' 1; expect_no_frames 'tcp.flags.fin == 1'; }
check_fin_with_data() { at_moment 1 client FIN-WAIT-2 1 1; at_moment 1 server CLOSE-WAIT 1 1; at_moment 2 client TIME-WAIT 1 1; expect client TIME-WAIT 1 1; expect_empty server; expect_frames 'tcp.flags.fin == 1 && tcp.len > 0 && tcp.srcport == 40094' 1; expect_no_frames 'tcp.flags.reset == 1'; }

check_client_lost_socket_reconnect() { at_moment 1 client ESTAB 1 1; at_moment 1 server ESTAB 1 1; at_moment 2 client ESTAB 0 0; at_moment 2 server ESTAB 1 1; at_moment 3 client SYN-SENT 1 1; at_moment 3 server ESTAB 0 0; at_moment 4 client ESTAB 1 1; at_moment 4 server ESTAB 1 1; expect server TIME-WAIT 1 1; expect_empty client; nft_dropped client 1; nft_dropped server 1; expect_log server 'reset'; expect_frames 'tcp.flags == 0x002 && tcp.srcport == 40100' 4; expect_frames 'tcp.flags == 0x004 && tcp.srcport == 40100' 1; }
check_user_timeout_give_up() { at_moment 1 client ESTAB 1 1; at_moment 1 server ESTAB 1 1; at_moment 2 client ESTAB 0 0; at_moment 2 server ESTAB 1 1; at_moment 3 server ESTAB 1 1; expect_empty client; expect server ESTAB 1 1; expect_log client 'timed out'; expect_frames 'tcp.srcport == 40101 && tcp.analysis.retransmission' 2; expect_no_frames 'tcp.flags.reset == 1'; }
check_close_wait_unread_rst() { at_moment 1 client FIN-WAIT-2 1 1; at_moment 1 server CLOSE-WAIT 1 1; at_moment 2 client FIN-WAIT-2 0 0; at_moment 2 server CLOSE-WAIT 0 0; expect_empty client; expect_empty server; expect_frames 'tcp.flags.reset == 1 && tcp.srcport == 9192' 1; expect_no_frames 'tcp.flags.fin == 1 && tcp.srcport == 9192'; }
check_rst_to_syn_recv_forged() { at_moment 1 client ESTAB 1 1; at_moment 1 server SYN-RECV 1 1; at_moment 2 server SYN-RECV 1 1; at_moment 3 server SYN-RECV 0 0; at_moment 3 client ESTAB 1 1; expect_empty client; nft_dropped server 1; expect_frames 'tcp.flags == 0x004 && tcp.srcport == 40103' 2; expect_frames 'tcp.flags.reset == 1 && tcp.srcport == 9193' 1; }
check_icmpv6_packet_too_big() { at_moment 1 client ESTAB 1 1; at_moment 1 server ESTAB 1 1; at_moment 2 client ESTAB 1 1; at_moment 2 server ESTAB 1 1; at_moment 3 client TIME-WAIT 1 1; expect client TIME-WAIT 1 1; expect_empty server; nft_dropped server 1; expect_frames 'icmpv6.type == 2' 1; expect_frames 'ipv6.plen == 1240 && tcp.srcport == 40104' 10; expect_no_frames 'tcp.flags.reset == 1'; }

check_nat_port_reuse() { at_moment 1 client ESTAB 1 1; at_moment 1 server ESTAB 1 1; at_moment 2 client ESTAB 0 0; at_moment 2 server ESTAB 1 1; at_moment 3 server ESTAB 0 0; at_moment 3 client ESTAB 0 0; at_moment 4 client ESTAB 1 1; at_moment 4 server ESTAB 1 1; expect server TIME-WAIT 1 1; expect_empty client; nft_dropped client 1; expect_log server 'late write'; expect_frames 'tcp.flags == 0x004 && tcp.srcport == 40110' 1; expect_frames 'tcp.flags == 0x002 && tcp.srcport == 40110' 2; expect_frames 'tcp.srcport == 9200 && tcp.len == 10' 1; }
check_zero_window_close() { at_moment 1 client FIN-WAIT-1 1 1; at_moment 1 server ESTAB 1 1; at_moment 2 client FIN-WAIT-1 1 1; at_moment 2 server ESTAB 1 1; at_moment 3 client TIME-WAIT 1 1; expect client TIME-WAIT 1 1; expect_empty server; expect_log client 'close() with unsent'; expect_frames 'tcp.analysis.zero_window' 1; expect_frames 'tcp.srcport == 40111 && tcp.analysis.keep_alive' 2; expect_no_frames 'tcp.flags.reset == 1'; }
check_syn_ack_lost_data_first() { at_moment 1 client ESTAB 1 1; at_moment 1 server SYN-RECV 1 1; at_moment 2 client ESTAB 1 1; at_moment 2 server ESTAB 1 1; at_moment 3 client TIME-WAIT 1 1; expect client TIME-WAIT 1 1; expect_empty server; nft_dropped server 1; expect_frames 'tcp.flags == 0x012' 1; expect_no_frames 'tcp.flags.reset == 1'; }
check_simultaneous_close_with_data() { at_moment 1 client ESTAB 1 1; at_moment 1 server ESTAB 1 1; at_moment 2 client FIN-WAIT-1 1 1; at_moment 2 server FIN-WAIT-1 1 1; at_moment 3 client CLOSING 1 1; at_moment 3 server CLOSING 1 1; at_moment 4 client TIME-WAIT 1 1; at_moment 4 server TIME-WAIT 1 1; expect client TIME-WAIT 1 1; expect server TIME-WAIT 1 1; expect_frames 'tcp.flags.fin == 1' 2; expect_no_frames 'tcp.flags.reset == 1'; }
check_rst_after_fin_wait_2_timeout_reuse() { at_moment 1 client FIN-WAIT-2 1 1; at_moment 1 server CLOSE-WAIT 1 1; at_moment 2 client FIN-WAIT-2 0 0; at_moment 2 server CLOSE-WAIT 1 1; at_moment 3 client ESTAB 1 1; at_moment 3 server ESTAB 1 1; at_moment 3 server CLOSE-WAIT 0 0; at_moment 4 client TIME-WAIT 1 1; expect client TIME-WAIT 1 1; expect server CLOSE-WAIT 0 0; expect server ESTAB 0 0; expect_log server 'SO_ERROR 32'; expect_frames 'tcp.flags == 0x004 && tcp.srcport == 40114' 1; expect_frames 'tcp.flags == 0x002 && tcp.srcport == 40114' 3; }

check_ipv6_syn_to_time_wait_low_isn() { at_moment 1 server TIME-WAIT 1 1; at_moment 1 client ESTAB 0 0; at_moment 2 server TIME-WAIT 0 0; at_moment 3 server TIME-WAIT 1 1; expect server TIME-WAIT 1 1; expect_empty client; expect_frames 'ipv6 && tcp.flags == 0x002 && tcp.srcport == 40120' 3; expect_frames 'ipv6 && tcp.flags == 0x010 && tcp.srcport == 9220 && tcp.len == 0' 1; expect_frames 'tcp.flags == 0x004 && tcp.srcport == 40120' 1; }
check_icmp_port_unreachable_after_data() { at_moment 1 client ESTAB 1 1; at_moment 1 server ESTAB 1 1; at_moment 2 client ESTAB 1 1; at_moment 2 server ESTAB 1 1; at_moment 3 client TIME-WAIT 1 1; expect client TIME-WAIT 1 1; expect_empty server; expect_log client 'GET /again'; expect_frames 'icmp.type == 3 && icmp.code == 3' 2; expect_frames 'tcp.srcport == 40121 && tcp.analysis.retransmission' 2; expect_no_frames 'tcp.flags.reset == 1'; }
check_rst_ack_in_syn_recv_from_client_app() { at_moment 1 client ESTAB 1 1; at_moment 1 server SYN-RECV 1 1; at_moment 2 client ESTAB 1 1; at_moment 2 server SYN-RECV 1 1; at_moment 3 client ESTAB 0 0; at_moment 3 server SYN-RECV 0 0; expect_empty client; nft_dropped server 2; expect_frames 'tcp.flags == 0x014 && tcp.srcport == 40122' 1; expect_frames 'tcp.flags == 0x012' 2; }

ALL="seeds-server-closes client-closes stuck-close-wait refused abortive-close bulk-loss syn-flood
keepalive zero-window time-wait-pileup ipv6-seeds-server-closes sll2-any pcapng-nanosecond
forged-rst fin-behind-hole syn-to-time-wait syn-sent-bad-ack late-syncookie ack-dropped fin-timeout
syn-retries retries2-give-up close-wait-at-end simultaneous-close last-ack-lost half-close-data
rst-to-time-wait keepalive-dead-peer accept-queue-overflow syn-recv-client-rst orphan-fin-retries
simultaneous-open syn-backlog-full-no-cookies close-with-unread-data persist-give-up fin-wait-2-reset
ipv6-loss synack-lost socket-killed tw-reuse-client syn-new-isn-to-syn-recv abort-on-overflow
orphan-gets-data server-half-close ipv6-refused icmp-port-unreachable icmpv6-admin-prohibited icmp-host-unreachable
icmp-to-syn-recv tcp-fast-open listener-closed-with-queue syn-in-established reuse-after-rst
syn-to-time-wait-low-isn rst-in-syn-sent server-lost-socket keepalive-to-rebooted-peer fin-with-data
client-lost-socket-reconnect user-timeout-give-up close-wait-unread-rst rst-to-syn-recv-forged icmpv6-packet-too-big
nat-port-reuse zero-window-close syn-ack-lost-data-first simultaneous-close-with-data
rst-after-fin-wait-2-timeout-reuse ipv6-syn-to-time-wait-low-isn icmp-port-unreachable-after-data
rst-ack-in-syn-recv-from-client-app"
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
# goldens of the scenarios made (all goldens when none were named), manifest + README (these cover
# every scenario present)
if [ $# -gt 0 ]; then
  caps=()
  for s in $WANT; do caps+=("$(ls "$OUT/$s"/*.pcap* | head -1)"); done
  bash "$HERE/tshark-golden.sh" "${caps[@]}"
else
  bash "$HERE/tshark-golden.sh"
fi
"$PY" "$HERE/manifest.py"
echo "done in $(( $(date +%s) - start )) s; $(du -sh "$OUT" | cut -f1) in $OUT"
