#!/usr/bin/env bash
# bench/live.sh — the live engine beside the zero-work TUN relay ceiling and tun2proxy, in one run (root).
# Prints one table: iperf3 upload/download at tun MTU 1500 and 9000, the engine's CPU time per GB moved in
# each of those runs (user + system time of all its threads), new TCP connections per second, p50/p99 added
# latency of a 32-byte request/response, and phonehome's RSS with many open idle flows.
# Not a pass/fail test; ±30% noise on these shared 2-core machines, so compare within one run only.
#
#   "bphone" netns: tun0 (10.0.0.2/24) is the default route; the engine under test is attached to it.
#   "binet" netns:  vi 10.200.1.2 (servers), .3 (reached straight through the veth: the baseline), .4 (SOCKS).
#   Engines: tunrelay (bench/tunrelay.c: tun0 → tun1 in binet, nothing else), tun2proxy + microsocks,
#   phonehome run (release build, with analysis; outbound sockets marked 100 → veth), and "bare": the same
#   forwarding without analysis (phonehome-stack's tunrun example), which shows what the analysis costs.
# Needs: iperf3 and microsocks (apt), cc, tun2proxy (cargo install tun2proxy --locked --root bench/out/tools).
# Env: SECONDS_PER_RUN (iperf3, default 5), IDLE_FLOWS (default 10000), ENGINES (default all), CARGO_TARGET_DIR,
# RSS_ONLY=1 (only the idle-flow memory of bare and phonehome). To compare two builds in one run, name the other
# build's binaries PHONEHOME_BEFORE and BARE_BEFORE and add the engines "bare-before phonehome-before".
set -euo pipefail

P=bphone
I=binet
MARK=100
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/bench/out
STATE=$OUT/live
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
IDLE_FLOWS=${IDLE_FLOWS:-10000}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
# PHONEHOME and BARE may name other builds, to compare two versions in one run.
PHONEHOME=${PHONEHOME:-$TARGET/release/phonehome}
BARE=${BARE:-$TARGET/release/examples/tunrun}
PHONEHOME_BEFORE=${PHONEHOME_BEFORE:-}
BARE_BEFORE=${BARE_BEFORE:-}
TUN2PROXY=$(ls "$OUT"/tools/bin/tun2proxy-bin "$OUT"/tools/bin/tun2proxy 2>/dev/null | head -n 1 || true)
TOOL="python3 $STATE/tool.py"

[ "$(id -u)" = 0 ] || { echo "live.sh: run as root" >&2; exit 1; }
read -r -a ENGINES <<<"${ENGINES:-veth tunrelay tun2proxy bare phonehome}"
for tool in iperf3 cc python3; do
    command -v "$tool" >/dev/null || { echo "live.sh: install $tool" >&2; exit 1; }
done
if [[ " ${ENGINES[*]} " == *" tun2proxy "* ]]; then
    command -v microsocks >/dev/null || { echo "live.sh: install microsocks" >&2; exit 1; }
    [ -n "$TUN2PROXY" ] || { echo "live.sh: cargo install tun2proxy --locked --root bench/out/tools" >&2; exit 1; }
fi
mkdir -p "$STATE"
(cd "$ROOT" && cargo build -q --release -p phonehome && cargo build -q --release -p phonehome-stack --example tunrun)
cc -O2 -Wall -o "$OUT/tunrelay" "$ROOT/bench/tunrelay.c"
# 10,000 flows are 10,000 sockets in the client, the engine and the server.
ulimit -n "$(ulimit -Hn)"

# The client/server side of the measurements that iperf3 does not cover.
cat >"$STATE/tool.py" <<'EOF'
import asyncio, socket, statistics, sys, time

async def echo(reader, writer):
    try:
        while data := await reader.read(4096):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    writer.close()

async def serve():
    server = await asyncio.start_server(echo, None, 7000, backlog=4096)  # None: IPv4 and IPv6
    await server.serve_forever()

def latency(host, count=5000):
    # One connection, `count` 32-byte exchanges; p50 and p99 round trip in µs.
    with socket.create_connection((host, 7000), timeout=5) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rtts = []
        for _ in range(count):
            start = time.perf_counter_ns()
            s.sendall(b"x" * 32)
            got = 0
            while got < 32:
                chunk = s.recv(32 - got)
                if not chunk:
                    sys.exit("connection closed")
                got += len(chunk)
            rtts.append((time.perf_counter_ns() - start) / 1000)
        rtts.sort()
        print(f"{rtts[len(rtts) // 2]:.0f} {rtts[len(rtts) * 99 // 100]:.0f}")

async def connection_rate(host, seconds=4.0, workers=32):
    # New connections per second: each worker connects, exchanges one byte, closes, and again.
    done, end = 0, time.monotonic() + seconds
    async def worker():
        nonlocal done
        while time.monotonic() < end:
            reader, writer = await asyncio.open_connection(host, 7000)
            writer.write(b"x")
            await reader.readexactly(1)
            writer.close()
            await writer.wait_closed()
            done += 1
    start = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(workers)))
    print(f"{done / (time.monotonic() - start):.0f}")

async def hold(host, count, ready, batch=200):
    # Opens `count` connections (each proven by one echo), writes how many to `ready`, holds them until killed.
    held = []
    async def one():
        reader, writer = await asyncio.open_connection(host, 7000)
        writer.write(b"x")
        await reader.readexactly(1)
        held.append(writer)
    for first in range(0, count, batch):
        await asyncio.gather(*(one() for _ in range(min(batch, count - first))))
    with open(ready, "w") as out:
        print(len(held), file=out)
    await asyncio.Event().wait()

mode = sys.argv[1]
if mode == "serve":
    asyncio.run(serve())
elif mode == "latency":
    latency(sys.argv[2])
elif mode == "rate":
    asyncio.run(connection_rate(sys.argv[2]))
elif mode == "hold":
    asyncio.run(hold(sys.argv[2], int(sys.argv[3]), sys.argv[4]))
EOF

down() {
    stop_engine
    for name in iperf3 echo socks; do
        [ -f "$STATE/$name.pid" ] && kill "$(cat "$STATE/$name.pid")" 2>/dev/null || true
        rm -f "$STATE/$name.pid"
    done
    ip netns del "$P" 2>/dev/null || true
    ip netns del "$I" 2>/dev/null || true
}

up() {
    ip netns add "$P"
    ip netns add "$I"
    ip -n "$P" link set lo up
    ip -n "$I" link set lo up
    ip -n "$P" link add vp type veth peer name vi netns "$I"
    ip -n "$P" addr add 10.200.1.1/32 dev vp
    for a in 2 3 4; do ip -n "$I" addr add "10.200.1.$a/24" dev vi; done
    ip -n "$P" link set vp up
    ip -n "$I" link set vi up
    ip -n "$P" route add 10.200.1.0/24 dev vp table "$MARK"
    ip -n "$P" rule add fwmark "$MARK" lookup "$MARK" priority 100
    ip -n "$P" rule add to 10.200.1.3 lookup "$MARK" priority 101
    ip -n "$P" rule add to 10.200.1.4 lookup "$MARK" priority 102
    # Connection-rate runs leave tens of thousands of TIME_WAITs, which would slow the next engine's
    # owner look-ups (/proc/net/tcp lists them all): cap them.
    ip netns exec "$P" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
        "net.ipv4.ip_local_port_range=1024 65535" net.ipv4.tcp_tw_reuse=1 net.ipv4.tcp_max_tw_buckets=2048
    ip netns exec "$I" sysctl -qw "net.ipv4.ip_local_port_range=1024 65535" net.ipv4.tcp_tw_reuse=1
    ip netns exec "$I" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
    ip -n "$P" tuntap add dev tun0 mode tun
    ip -n "$P" addr add 10.0.0.2/24 dev tun0
    ip -n "$P" link set tun0 up
    ip -n "$P" route add default dev tun0

    ip netns exec "$I" iperf3 -s >"$STATE/iperf3.log" 2>&1 &
    echo $! >"$STATE/iperf3.pid"
    ip netns exec "$I" $TOOL serve >"$STATE/echo.log" 2>&1 &
    echo $! >"$STATE/echo.pid"
    if command -v microsocks >/dev/null; then
        ip netns exec "$I" microsocks -i 10.200.1.4 -p 1080 >"$STATE/socks.log" 2>&1 &
        echo $! >"$STATE/socks.pid"
    fi
    sleep 1
}

# The binary of a phonehome engine name.
binary_of() {
    case "$1" in
        phonehome) echo "$PHONEHOME" ;;
        phonehome-before) echo "${PHONEHOME_BEFORE:?set PHONEHOME_BEFORE}" ;;
        bare) echo "$BARE" ;;
        bare-before) echo "${BARE_BEFORE:?set BARE_BEFORE}" ;;
    esac
}

# start_engine NAME MTU: attaches the engine to tun0 (set to MTU); the baseline ("veth") needs none.
start_engine() {
    ip -n "$P" link set tun0 mtu "$2"
    case "$1" in
        veth) return ;;
        tunrelay)
            ip -n "$I" tuntap add dev tun1 mode tun
            ip -n "$I" link set tun1 mtu "$2" up
            ip -n "$I" route add 10.0.0.0/24 dev tun1
            "$OUT/tunrelay" "$P" tun0 "$I" tun1 >"$STATE/engine.log" 2>&1 &
            ;;
        tun2proxy)
            ip netns exec "$P" "$TUN2PROXY" --tun tun0 --proxy socks5://10.200.1.4:1080 --mtu "$2" \
                --tcp-mss $(($2 - 40)) --max-sessions $((IDLE_FLOWS + 100)) -v warn >"$STATE/engine.log" 2>&1 &
            ;;
        phonehome | phonehome-before)
            local extra=() binary
            binary=$(binary_of "$1")
            if "$binary" run --help | grep -q -- --max-tcp-flows; then
                extra=(--max-tcp-flows $((IDLE_FLOWS + 100)))
            fi
            ip netns exec "$P" "$binary" run --tun tun0 --fwmark "$MARK" --mtu "$2" --quiet "${extra[@]}" \
                >"$STATE/engine.log" 2>&1 &
            ;;
        bare | bare-before) ip netns exec "$P" "$(binary_of "$1")" tun0 "$MARK" 10.200.1.2:53 10.0.0.53 "$2" \
            $((IDLE_FLOWS + 100)) >"$STATE/engine.log" 2>&1 & ;;
    esac
    echo $! >"$STATE/engine.pid"
    sleep 1
    kill -0 "$(cat "$STATE/engine.pid")" || { echo "live.sh: $1 did not start:" >&2; cat "$STATE/engine.log" >&2; exit 1; }
}

stop_engine() {
    if [ -f "$STATE/engine.pid" ]; then
        local pid
        pid=$(cat "$STATE/engine.pid")
        kill "$pid" 2>/dev/null || true
        # Until it exits (a zombie has let go of the tun), then by force.
        for _ in $(seq 100); do grep -qs '^State:[[:space:]]*[^Z]' "/proc/$pid/status" || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        rm -f "$STATE/engine.pid"
    fi
    ip -n "$I" link del tun1 2>/dev/null || true
}

# Server address for an engine: the baseline bypasses the tun.
server() { [ "$1" = veth ] && echo 10.200.1.3 || echo 10.200.1.2; }

# CPU time (user + system, all threads) the engine has used so far, in clock ticks; 0 without an engine.
cpu_ticks() {
    [ -f "$STATE/engine.pid" ] || { echo 0; return; }
    # Fields 14 and 15 of /proc/PID/stat, counted after the ")" that ends the command name.
    sed 's/.*) //' "/proc/$(cat "$STATE/engine.pid")/stat" | awk '{print $12 + $13}'
}

# One iperf3 run (flag -R: download): prints Mbit/s received and the engine's CPU ms per GB moved.
rate() {
    local before after out
    before=$(cpu_ticks)
    # The receiver line: "[  5]   0.00-5.00   sec  2.11 GBytes  3624 Mbits/sec   receiver" (-f m scales only
    # the rate): MB moved from the amount and its unit.
    out=$(ip netns exec "$P" iperf3 -c "$1" -t "$SECONDS_PER_RUN" -f m $2 2>/dev/null | awk '/receiver/ {
        scale = ($6 == "GBytes") ? 1024 : ($6 == "MBytes") ? 1 : ($6 == "KBytes") ? 1 / 1024 : 1 / 1048576
        print $5 * scale * 1.048576, $7 }')
    after=$(cpu_ticks)
    [ -n "$out" ] || return 1
    read -r mbytes mbits <<<"$out"
    awk -v m="$mbits" -v mb="$mbytes" -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v e="$engine" \
        'BEGIN { if (e == "veth" || mb <= 0) printf "%s -\n", m; else printf "%s %.0f\n", m, t * 1000 / hz / (mb / 1000) }'
}

# The phone's view: a number, or "-" when the measurement failed.
measure() { "$@" 2>/dev/null || echo "-"; }

trap down EXIT
down
up

# The engine's RSS idle, then holding IDLE_FLOWS open idle connections (1,000 without phonehome's
# --max-tcp-flows, whose default cap is 1024): right after they opened, and once settled (idle flows hand
# their buffer pages back after a second).
idle_flows() {
    local pid flows=$IDLE_FLOWS ready=$STATE/held
    pid=$(cat "$STATE/engine.pid")
    case "$2" in phonehome*) "$(binary_of "$2")" run --help | grep -q -- --max-tcp-flows || flows=1000 ;; esac
    R[$2,rss0]=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    rm -f "$ready"
    ip netns exec "$P" $TOOL hold "$1" "$flows" "$ready" >"$STATE/hold.log" 2>&1 &
    local hold=$!
    for _ in $(seq 1200); do [ -s "$ready" ] || ! kill -0 "$hold" 2>/dev/null && break; sleep 0.1; done
    R[$2,held]=$(cat "$ready" 2>/dev/null || echo 0)
    R[$2,rss_open]=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    sleep 3
    R[$2,rss]=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    kill "$hold" 2>/dev/null || true
    wait "$hold" 2>/dev/null || true
    sleep 2 # the engine reaps the closed flows
}

declare -A R
MTUS=(1500 9000)
if [ -n "${RSS_ONLY:-}" ]; then ENGINES=(bare phonehome) MTUS=(1500); fi
for mtu in "${MTUS[@]}"; do
    for engine in "${ENGINES[@]}"; do
        start_engine "$engine" "$mtu"
        target=$(server "$engine")
        # Idle flows first, before the connection-rate test fills the port space with TIME_WAITs.
        case "$engine,$mtu" in phonehome*,1500 | bare*,1500) idle_flows "$target" "$engine" ;; esac
        if [ -n "${RSS_ONLY:-}" ]; then stop_engine; continue; fi
        read -r R[$engine,up,$mtu] R[$engine,upcpu,$mtu] < <(measure rate "$target" "")
        read -r R[$engine,down,$mtu] R[$engine,downcpu,$mtu] < <(measure rate "$target" -R)
        if [ "$mtu" = 1500 ]; then
            R[$engine,conn]=$(measure ip netns exec "$P" $TOOL rate "$target")
            read -r R[$engine,p50] R[$engine,p99] < <(measure ip netns exec "$P" $TOOL latency "$target")
        fi
        stop_engine
    done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b <= 0) print "-"; else printf "%.2f", a / b }'; }
added() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%d", a - b }'; }

# Columns: the engines measured, in the order named.
col() { for engine in "${ENGINES[@]}"; do printf ' %9s |' "${R[$engine,$1]:--}"; done; }
printf '\n| %-31s |' measure
for engine in "${ENGINES[@]}"; do printf ' %9s |' "$engine"; done
printf ' %11s | %12s |\n|%s|' ph/tunrelay ph/tun2proxy "---------------------------------"
for engine in "${ENGINES[@]}"; do printf '%s|' "-----------"; done
printf '%s|%s|\n' "-------------" "--------------"
row() { # label key
    printf '| %-31s |%s %11s | %12s |\n' "$1" "$(col "$2")" "$(ratio "${R[phonehome,$2]:--}" "${R[tunrelay,$2]:--}")" \
        "$(ratio "${R[phonehome,$2]:--}" "${R[tun2proxy,$2]:--}")"
}
for mtu in 1500 9000; do
    row "upload Mbit/s, MTU $mtu" "up,$mtu"
    row "download Mbit/s, MTU $mtu" "down,$mtu"
done
for mtu in 1500 9000; do
    row "engine CPU ms/GB up, MTU $mtu" "upcpu,$mtu"
    row "engine CPU ms/GB down, MTU $mtu" "downcpu,$mtu"
done
row "new connections/s" conn
for engine in "${ENGINES[@]}"; do
    for q in p50 p99; do R[$engine,added_$q]=$(added "${R[$engine,$q]:--}" "${R[veth,$q]:--}"); done
done
row "p50 added latency µs" added_p50
row "p99 added latency µs" added_p99
echo
echo "veth round trip of the 32-byte exchange (Python client): p50 ${R[veth,p50]:--} µs, p99 ${R[veth,p99]:--} µs."
for engine in "${ENGINES[@]}"; do
    [ -n "${R[$engine,rss]:-}" ] || continue
    echo "$engine RSS: $((R[$engine,rss0] / 1024)) MiB idle; holding ${R[$engine,held]} open idle flows:" \
        "$((R[$engine,rss_open] / 1024)) MiB as they opened, $((R[$engine,rss] / 1024)) MiB settled."
done
echo "veth = same client and servers without tun or engine; tun2proxy → microsocks over the same veth;"
echo "bare = phonehome's forwarding without analysis; ratios are phonehome over the column named;"
echo "CPU ms/GB = user + system time of all the engine's threads during the run, per GB received by iperf3."
