#!/usr/bin/env bash
# Make a kernel-made capture for the benchmark (issue 19): many short connections and one bulk
# transfer through real Linux TCP, for `node dist/scripts/bench.js --capture OUT.pcap`.
#
#   sudo bash scripts/kernel/make-bench-capture.sh OUT.pcap [--connections N] [--bulk-mb M]
#                                                    [--drop-one-in K] [--parallel P]
#
# Defaults: 150000 connections, 800 MB, 1 in 300 (about 2.5M packets, 240 MB, a few minutes).
# Two network namespaces (tcpstate-bench-c, tcpstate-bench-s: not make-samples.sh's, so both can
# run at once) joined by one veth pair (veth-c <-> veth-s), 192.0.2.1 (client) and 192.0.2.2
# (server), offloads off (wire-sized segments), no default route: nothing leaves.
# - N short connections (scripts/kernel/bench-peer.py), P at a time, round robin over server
#   ports 9200-9207: connect, a one-line request, a 98-byte answer, the server closes first
#   (TIME_WAIT on its side), then the client.
# - One bulk transfer of M MB from the client to port 9300, started with the short connections.
# - nft drops 1 in K packets with the SYN flag (`numgen inc mod K`), in the input hook of the
#   receiver: SYNs in the server, SYN-ACKs in the client. tcpdump runs on veth-s, so the capture
#   holds the lost packet and its retransmission.
# - tcpdump -s 96 on veth-s into OUT.pcap (microsecond pcap, Ethernet).
# Ports: the client may use 1024-65535, and Linux walks them per destination, so with eight
# server ports a client's 4-tuple should come back only after some 250,000 connections, not while
# the server still holds it in TIME_WAIT (were one to, Linux takes a SYN with a newer sequence
# number or timestamp on a TIME_WAIT socket as a new connection).
#
# Exits 0 with "skipped: ..." when not root, when namespaces cannot be made or when a tool is
# missing. Namespaces and helper processes are removed on exit, also on failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEER="$HERE/bench-peer.py"

usage() { echo "usage: $0 OUT.pcap [--connections N] [--bulk-mb M] [--drop-one-in K] [--parallel P]" >&2; exit 2; }
OUTFILE=""
CONNS=150000
BULK_MB=800
DROP_K=300
PARALLEL=256
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) CONNS=${2:?}; shift 2 ;;
    --bulk-mb) BULK_MB=${2:?}; shift 2 ;;
    --drop-one-in) DROP_K=${2:?}; shift 2 ;;
    --parallel) PARALLEL=${2:?}; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) [ -z "$OUTFILE" ] || usage; OUTFILE=$1; shift ;;
  esac
done
[ -n "$OUTFILE" ] || usage
for v in "$CONNS" "$BULK_MB" "$DROP_K" "$PARALLEL"; do
  [[ $v =~ ^[0-9]+$ ]] || { echo "not a whole number: $v" >&2; usage; }
done
[ "$DROP_K" -ge 2 ] || [ "$DROP_K" = 0 ] || { echo "--drop-one-in: 0 (no loss) or at least 2" >&2; exit 2; }

NS_C=tcpstate-bench-c
NS_S=tcpstate-bench-s
IF_C=veth-c
IF_S=veth-s
MAC_C=02:00:00:00:02:01
MAC_S=02:00:00:00:02:02
C4=192.0.2.1
S4=192.0.2.2
C6=2001:db8::1
S6=2001:db8::2
PORTS=9200-9207
SINK=9300
FILTER='tcp or arp or icmp or icmp6'

NAME=make-bench-capture
# shellcheck source=netns.sh
. "$HERE/netns.sh"

# ---------------------------------------------------------------- preflight
[ "$(id -u)" = 0 ] || skip "must run as root (sudo bash scripts/kernel/make-bench-capture.sh OUT.pcap)"
missing=""
for t in ip ss tcpdump nft ethtool python3 ping; do
  command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
[ -z "$missing" ] || skip "missing tools:$missing (Debian: apt-get install -y iproute2 tcpdump nftables ethtool python3 iputils-ping)"
PY=$(command -v python3)
probe_netns tcpstate-bench-probe

mkdir -p "$(dirname "$OUTFILE")"
OUTFILE=$(cd "$(dirname "$OUTFILE")" && pwd)/$(basename "$OUTFILE")
WORK=$(mktemp -d /tmp/tcpstate-bench.XXXXXX)
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }'; }
start=$(date +%s.%N)

# ---------------------------------------------------------------- topology
# many connections: every ephemeral port, deep accept and SYN queues, room for every TIME_WAIT
setup_ns net.ipv4.ip_local_port_range="1024 65535" net.ipv4.tcp_tw_reuse=1 \
  net.core.somaxconn=8192 net.ipv4.tcp_max_syn_backlog=8192 net.ipv4.tcp_max_tw_buckets=1000000

# ---------------------------------------------------------------- loss: 1 in K SYN-flagged packets
# in the receiver's input hook, after the capture point (tcpdump on veth-s sees the packet)
if [ "$DROP_K" != 0 ]; then
  for ns in "$NS_S" "$NS_C"; do
    ip netns exec "$ns" nft -f - <<EOF
table inet tcpstate_bench {
  chain input {
    type filter hook input priority filter; policy accept;
    tcp flags & syn == syn numgen inc mod $DROP_K 0 counter drop
  }
}
EOF
  done
fi

# ---------------------------------------------------------------- capture and traffic
: >"$WORK/tcpdump.log"
# shellcheck disable=SC2086
ip netns exec "$NS_S" tcpdump -Z root -n -B 131072 -i "$IF_S" -s 96 -w "$OUTFILE" $FILTER 2>"$WORK/tcpdump.log" &
CAP_PID=$!
for i in $(seq 1 100); do
  grep -q "listening on" "$WORK/tcpdump.log" && break
  sleep 0.05
done
grep -q "listening on" "$WORK/tcpdump.log" || { cat "$WORK/tcpdump.log" >&2; exit 1; }
sleep 0.1

ip netns exec "$NS_S" "$PY" "$PEER" serve --addr "$S4" --ports "$PORTS" --sink-port "$SINK" >>"$WORK/server.log" 2>&1 &
BG_PIDS+=($!)
for i in $(seq 1 100); do
  ip netns exec "$NS_S" ss -Hltn "sport = :$SINK" | grep -q . && break
  sleep 0.05
done
say "$CONNS short connections ($PARALLEL at a time) and $BULK_MB MB in bulk, 1 in $DROP_K SYNs dropped"
t0=$(date +%s.%N)
bulk_pid=""
if [ "$BULK_MB" != 0 ]; then
  ip netns exec "$NS_C" "$PY" "$PEER" bulk --addr "$S4" --port "$SINK" --bytes $((BULK_MB << 20)) >>"$WORK/client.log" 2>&1 &
  bulk_pid=$!
  BG_PIDS+=($bulk_pid)
fi
ip netns exec "$NS_C" "$PY" "$PEER" short --addr "$S4" --ports "$PORTS" --count "$CONNS" --parallel "$PARALLEL" \
  >>"$WORK/client.log" 2>&1 || { cat "$WORK/client.log" >&2; exit 1; }
[ -z "$bulk_pid" ] || wait "$bulk_pid" || { cat "$WORK/client.log" >&2; exit 1; }
traffic_s=$(since "$t0")
sleep 0.5  # the last FINs and ACKs
ip netns exec "$NS_C" ping -c 1 -W 1 "$S4" >/dev/null 2>&1 || true  # a last packet: the capture's end

tw=$(ip netns exec "$NS_S" ss -Htan state time-wait | wc -l)
drops=""
if [ "$DROP_K" != 0 ]; then
  for ns in "$NS_S" "$NS_C"; do
    drops="$drops$(ip netns exec "$ns" nft list table inet tcpstate_bench | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')+"
  done
  drops=${drops%+}
fi
# tcpdump (not in immediate mode, to keep up with the bulk) hands packets over a block at a time,
# at the latest after its 1 s timeout: packets after the last full block would be lost at SIGINT
sleep 2
kill -INT "$CAP_PID"
wait "$CAP_PID" || true
CAP_PID=""
kill_bg
teardown_ns
sed 's/^/    /' "$WORK/client.log" "$WORK/server.log"
grep -E 'captured|dropped' "$WORK/tcpdump.log" | sed 's/^/    tcpdump: /'
dropped=$(sed -n 's/^\([0-9]*\) packets* dropped by kernel.*/\1/p' "$WORK/tcpdump.log")
if [ -n "$dropped" ] && [ "$dropped" != 0 ]; then
  echo "WARNING: tcpdump dropped $dropped packets: the capture misses them (a quieter machine, or fewer --parallel)" >&2
fi

# ---------------------------------------------------------------- summary
read -r packets conns < <("$PY" "$PEER" count "$OUTFILE")
size=$(du -m "$OUTFILE" | cut -f1)
total_s=$(since "$start")
echo "$OUTFILE: $packets packets, $conns connections (distinct SYNs), $size MB, snaplen 96;" \
  "traffic $traffic_s s, $total_s s in all; SYN-flagged packets dropped by nft: ${drops:-none};" \
  "server TIME_WAIT at the end: $tw"
