#!/usr/bin/env bash
# Capture-analysis speed: phonehome vs ndpiReader (vs tshark) on the same captures, in the same run.
# Prints tables: wall and CPU seconds, MB/s, packets/s, peak RSS, and each peer's CPU time over phonehome's.
# Not a test: run it by hand.
#
#   bench/analyze.sh [COPIES]      (default 20)
#
# Captures (built once into bench/out/ by `bench-captures`, see rust-core/testdata/src/bin/bench_captures.rs):
#   realistic-xN   the Ethernet captures of the nDPI corpus made one monotonic timeline, then N copies of it,
#                  each with its own addresses (checksums kept valid) and 1 ms behind the previous one, merged in
#                  time order: distinct flows, monotonic time, like a busy router's capture of many phones
#   time-jumps-xN  the same captures simply concatenated N times (time jumps back at every copy, the same
#                  flows repeat): how the README's table was once made; kept to show the difference
#   syn-flood      1,000,000 TCP SYNs, each its own flow
#   dns-flood      1,000,000 DNS queries with answers, each its own flow and name
# and a scaling table over realistic-x5, -x20, -x80.
# Needs: ndpiReader (libndpi-bin), tshark, mergecap and capinfos (wireshark-common), GNU time (installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
copies=${1:-20}
corpus=${PHONEHOME_CORPUS:-../shared/corpus}/ndpi
out=bench/out
mkdir -p "$out"

for tool in tshark:tshark ndpiReader:libndpi-bin mergecap:wireshark-common capinfos:wireshark-common /usr/bin/time:time; do
  command -v "${tool%%:*}" >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${tool#*:}" >/dev/null; }
done
cargo build --release -q -p phonehome -p phonehome-testdata --bin phonehome --bin bench-captures
target=${CARGO_TARGET_DIR:-target}/release
phonehome=$target/phonehome
echo "phonehome at $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- rust-core || echo '+changes')"

# libpcap (ndpiReader) cannot read one file with mixed link types: keep the Ethernet captures.
base=$out/corpus-ethernet.pcap
if [ ! -f "$base" ]; then
  mapfile -t eth < <(for f in "$corpus"/*.pcap; do
    [ "$(capinfos -T -E "$f" 2>/dev/null | tail -1 | cut -f2)" = "ether" ] && echo "$f"; done)
  mergecap -a -F pcap -w "$base" "${eth[@]}"
fi
capture() { # name: builds bench/out/NAME.pcap once, prints its path
  local path=$out/$1.pcap
  if [ ! -f "$path" ]; then
    case $1 in
      realistic-x*) "$target/bench-captures" realistic "$path" "${1#realistic-x}" "$base" ;;
      time-jumps-x*) mergecap -a -F pcap -w "$path" $(for _ in $(seq "${1#time-jumps-x}"); do echo "$base"; done) ;;
      syn-flood) "$target/bench-captures" syn-flood "$path" 1000000 ;;
      dns-flood) "$target/bench-captures" dns-flood "$path" 1000000 ;;
    esac
  fi
  echo "$path"
}

run() { # name, command...: prints "name wall_s cpu_s maxrss_kb"
  local name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$out/time.txt" "$@" >/dev/null 2>"$out/$name.err" || { echo "$name failed" >&2; tail -3 "$out/$name.err" >&2; }
  read -r wall user sys rss <"$out/time.txt"
  echo "$name $wall $(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}') $rss"
}

# table CAPTURE WITH_TSHARK: one row per tool, each peer's CPU time as a multiple of phonehome's.
table() {
  local file=$1 with_tshark=$2 bytes packets results
  bytes=$(stat -c %s "$file")
  packets=$(capinfos -c -T "$file" | tail -1 | cut -f2)
  results=$(
    run phonehome "$phonehome" analyze "$file" --quiet --csv "$out/flows.csv"
    run ndpiReader ndpiReader -i "$file" -q -v 0
    if [ "$with_tshark" = yes ]; then
      run tshark tshark -n -r "$file" -T fields -e frame.number -e dns.qry.name -e tls.handshake.extensions_server_name -e http.host
    fi
  )
  echo
  echo "$(basename "$file" .pcap): $((bytes / 1000000)) MB, $packets packets"
  printf '| %-10s | %7s | %7s | %8s | %11s | %9s | %16s |\n' tool wall_s cpu_s "MB/s" packets/s "peak RSS" "CPU vs phonehome"
  printf '|%s|\n' "------------|---------|---------|----------|-------------|-----------|------------------"
  base_cpu=$(echo "$results" | awk '$1=="phonehome"{print $3}')
  echo "$results" | while read -r name wall cpu rss; do
    awk -v n="$name" -v w="$wall" -v c="$cpu" -v r="$rss" -v b="$bytes" -v p="$packets" -v base="$base_cpu" 'BEGIN{
      w = (w < 0.01 ? 0.01 : w); c = (c < 0.01 ? 0.01 : c); base = (base < 0.01 ? 0.01 : base);
      printf "| %-10s | %7.2f | %7.2f | %8.1f | %11.0f | %6.0f MB | %15.2fx |\n", n, w, c, b/1e6/c, p/c, r/1024, c/base }'
  done
}

echo "machine: $(nproc) cores, $(uname -m); one process at a time; MB/s and packets/s per CPU second"
table "$(capture "realistic-x$copies")" yes
table "$(capture "time-jumps-x$copies")" no
table "$(capture syn-flood)" no
table "$(capture dns-flood)" no

echo
echo "scaling (realistic captures): CPU seconds, peak RSS"
printf '| %-8s | %9s | %12s | %13s | %13s | %14s |\n' copies MB "phonehome s" "phonehome RSS" "ndpiReader s" "ndpiReader RSS"
printf '|%s|\n' "----------|-----------|--------------|---------------|---------------|----------------"
for n in 5 20 80; do
  file=$(capture "realistic-x$n")
  read -r _ _ p_cpu p_rss <<<"$(run phonehome "$phonehome" analyze "$file" --quiet --csv "$out/flows.csv")"
  read -r _ _ n_cpu n_rss <<<"$(run ndpiReader ndpiReader -i "$file" -q -v 0)"
  printf '| %-8s | %9d | %12.2f | %10.0f MB | %13.2f | %11.0f MB |\n' "$n" $(($(stat -c %s "$file") / 1000000)) "$p_cpu" $((p_rss / 1024)) "$n_cpu" $((n_rss / 1024))
done
