#!/usr/bin/env bash
# bench/lab.sh up|down|status|bench — the live engine's test topology, by hand (root needed).
#
#   "phone" netns: tun0 (10.0.0.2/24, fd00:1::2/64) is the default route; the engine (`phonehome run`, or
#   with ENGINE=bare the forwarding-only tunrun example of phonehome-stack) runs here and marks its own sockets with fwmark 100, which `ip rule` sends to table
#   100: out through veth vp (10.200.1.1, fd00:200::1) to
#   "internet" netns: vi (10.200.1.2/24, fd00:200::2/64) with an HTTP server on :8080 serving
#   /big.bin (100 MB) and, when iperf3 is installed, an iperf3 server on :5201.
#   10.200.1.3 (also on vi) is routed straight through the veth, bypassing tun and engine: the baseline.
#   Virtual DNS 10.0.0.53:53 is forwarded to 10.200.1.2:53 (no DNS server runs there by default).
#
# Try:  ip netns exec phone curl -o /dev/null http://10.200.1.2:8080/big.bin
#       ip netns exec phone curl -o /dev/null 'http://[fd00:200::2]:8080/big.bin'
#       ip netns exec phone ping -c 3 10.200.1.2
#       ip netns exec phone iperf3 -c 10.200.1.2 [-R]     # through the engine
#       ip netns exec phone iperf3 -c 10.200.1.3 [-R]     # baseline without it, same run
#       tail -f /tmp/phonehome-lab/engine.log        # the engine's messages
#       lab.sh down; cat /tmp/phonehome-lab/flows.csv  # phonehome run writes flows and alerts when stopped
# LAB_RELEASE=1 builds the engine with --release (for throughput figures). MTU=9000 sets the tun MTU.
# `lab.sh bench` (lab up, iperf3 installed) prints engine vs. baseline throughput from one run.
set -euo pipefail

P=phone
I=internet
MARK=100
TABLE=100
MTU=${MTU:-1500}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=/tmp/phonehome-lab

up() {
    [ "$(id -u)" = 0 ] || { echo "lab.sh: run as root" >&2; exit 1; }
    if ip netns list | grep -qw "$P"; then echo "lab.sh: already up (lab.sh down first)" >&2; exit 1; fi
    mkdir -p "$STATE/www"
    trap 'echo "lab.sh: setup failed, tearing down" >&2; down' ERR

    ip netns add "$P"
    ip netns add "$I"
    ip -n "$P" link set lo up
    ip -n "$I" link set lo up
    ip -n "$P" link add vp type veth peer name vi netns "$I"
    # No prefix route on the phone side: only marked (protected) sockets may use the veth.
    ip -n "$P" addr add 10.200.1.1/32 dev vp
    ip -n "$P" -6 addr add fd00:200::1/128 dev vp nodad
    ip -n "$I" addr add 10.200.1.2/24 dev vi
    ip -n "$I" addr add 10.200.1.3/24 dev vi
    ip -n "$I" -6 addr add fd00:200::2/64 dev vi nodad
    ip -n "$P" link set vp up
    ip -n "$I" link set vi up
    ip -n "$P" route add 10.200.1.2/32 dev vp table "$TABLE"
    ip -n "$P" route add default via 10.200.1.2 dev vp table "$TABLE"
    ip -n "$P" -6 route add fd00:200::2/128 dev vp table "$TABLE"
    ip -n "$P" -6 route add default via fd00:200::2 dev vp table "$TABLE"
    ip -n "$P" rule add fwmark "$MARK" lookup "$TABLE" priority 100
    ip -n "$P" rule add to 10.200.1.3 lookup "$TABLE" priority 101
    ip -n "$P" -6 rule add fwmark "$MARK" lookup "$TABLE" priority 100
    ip netns exec "$P" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
        net.ipv4.conf.vp.rp_filter=0 "net.ipv4.ping_group_range=0 2147483647"

    ip -n "$P" tuntap add dev tun0 mode tun
    ip -n "$P" addr add 10.0.0.2/24 dev tun0
    ip -n "$P" -6 addr add fd00:1::2/64 dev tun0 nodad
    ip -n "$P" link set tun0 mtu "$MTU" up
    ip -n "$P" route add default dev tun0
    ip -n "$P" -6 route add default dev tun0

    local profile=debug flag=()
    if [ "${LAB_RELEASE:-0}" = 1 ]; then profile=release flag=(--release); fi
    local target=${CARGO_TARGET_DIR:-$ROOT/target}
    if [ "${ENGINE:-phonehome}" = bare ]; then
        # Forwarding alone, no inspection: shows what the analysis costs.
        (cd "$ROOT" && cargo build -q -p phonehome-stack --example tunrun "${flag[@]}")
        ip netns exec "$P" "$target/$profile/examples/tunrun" tun0 "$MARK" 10.200.1.2:53 10.0.0.53 "$MTU" \
            >"$STATE/engine.log" 2>&1 &
    else
        (cd "$ROOT" && cargo build -q -p phonehome "${flag[@]}")
        ip netns exec "$P" "$target/$profile/phonehome" run --tun tun0 --fwmark "$MARK" --mtu "$MTU" \
            --dns-virtual 10.0.0.53 --dns 10.200.1.2:53 --csv "$STATE/flows.csv" --alerts "$STATE/alerts.jsonl" \
            >"$STATE/engine.log" 2>&1 &
    fi
    echo $! >"$STATE/engine.pid"

    [ -f "$STATE/www/big.bin" ] || head -c 100M /dev/urandom >"$STATE/www/big.bin"
    ip netns exec "$I" python3 -m http.server 8080 --bind :: --directory "$STATE/www" \
        >"$STATE/http.log" 2>&1 &
    echo $! >"$STATE/http.pid"
    if command -v iperf3 >/dev/null; then
        ip netns exec "$I" iperf3 -s >"$STATE/iperf3.log" 2>&1 &
        echo $! >"$STATE/iperf3.pid"
    fi
    trap - ERR
    echo "lab up: try  ip netns exec $P curl -o /dev/null http://10.200.1.2:8080/big.bin"
}

down() {
    for name in engine http iperf3; do
        if [ -f "$STATE/$name.pid" ]; then
            local pid
            pid=$(cat "$STATE/$name.pid")
            kill "$pid" 2>/dev/null || true
            # phonehome writes its flows and alerts on SIGTERM: let it finish before the namespace goes.
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            rm -f "$STATE/$name.pid"
        fi
    done
    ip netns del "$P" 2>/dev/null || true
    ip netns del "$I" 2>/dev/null || true
}

status() {
    ip netns list
    [ -f "$STATE/engine.log" ] && tail -n 5 "$STATE/engine.log"
    return 0
}

# Mbit/s received in one iperf3 run from the phone namespace.
rate() {
    ip netns exec "$P" iperf3 -c "$1" -t "${SECONDS_PER_RUN:-5}" -f m $2 | awk '/receiver/ {print $7}'
}

bench() {
    command -v iperf3 >/dev/null || { echo "lab.sh bench: install iperf3" >&2; exit 1; }
    printf '| %-9s | %-20s | %-20s | %-6s |\n' direction "engine (Mbit/s)" "baseline (Mbit/s)" ratio
    printf '|-----------|----------------------|----------------------|--------|\n'
    for direction in upload download; do
        local flag=""
        [ "$direction" = download ] && flag=-R
        local engine baseline
        engine=$(rate 10.200.1.2 "$flag")
        baseline=$(rate 10.200.1.3 "$flag")
        printf '| %-9s | %20s | %20s | %6s |\n' "$direction" "$engine" "$baseline" \
            "$(awk -v a="$engine" -v b="$baseline" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
    done
    echo "tun MTU $MTU; baseline = same veth and servers, without tun and engine"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    bench) bench ;;
    *) echo "usage: $0 up|down|status|bench" >&2; exit 2 ;;
esac
