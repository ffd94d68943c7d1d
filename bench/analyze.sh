#!/usr/bin/env bash
# Capture-analysis speed: phonehome vs ndpiReader vs tshark on the same large capture, in the same run.
# Prints a table (MB/s, packets/s, peak RSS, ratio to phonehome). Not a test: run it by hand.
#
#   bench/analyze.sh [REPEATS]      (default 20: the Ethernet captures of the nDPI corpus, concatenated 20 times)
#
# Needs: tshark, ndpiReader (libndpi-bin), mergecap and capinfos (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-20}
corpus=${PHONEHOME_CORPUS:-../shared/corpus}/ndpi
out=bench/out
mkdir -p "$out"

for tool in tshark:tshark ndpiReader:libndpi-bin mergecap:wireshark-common capinfos:wireshark-common /usr/bin/time:time; do
  command -v "${tool%%:*}" >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${tool#*:}" >/dev/null; }
done
cargo build --release -q -p phonehome
phonehome=${CARGO_TARGET_DIR:-target}/release/phonehome

# libpcap (ndpiReader) cannot read one file with mixed link types: keep the Ethernet captures.
big=$out/corpus-x$repeats.pcap
if [ ! -f "$big" ]; then
  mapfile -t eth < <(for f in "$corpus"/*.pcap; do
    [ "$(capinfos -T -E "$f" 2>/dev/null | tail -1 | cut -f2)" = "ether" ] && echo "$f"; done)
  list=()
  for _ in $(seq "$repeats"); do list+=("${eth[@]}"); done
  mergecap -a -F pcap -w "$big" "${list[@]}"
fi
bytes=$(stat -c %s "$big")
packets=$(capinfos -c -T "$big" | tail -1 | cut -f2)

run() { # name, command...: prints "name seconds maxrss_kb"
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" >/dev/null 2>"$out/$name.err" || { echo "$name failed" >&2; cat "$out/$name.err" >&2; }
  echo "$name $(cat "$out/time.txt")"
}

results=$(
  run phonehome "$phonehome" analyze "$big" --quiet --csv "$out/flows.csv"
  run ndpiReader ndpiReader -i "$big" -q -v 0
  run tshark tshark -n -r "$big" -T fields -e frame.number -e dns.qry.name -e tls.handshake.extensions_server_name -e http.host
)

echo
echo "capture: $big — $((bytes / 1000000)) MB, $packets packets ($repeats × the Ethernet captures of the nDPI corpus)"
echo "machine: $(nproc) cores, $(uname -m); one process each, run one after the other"
printf '%-11s %9s %9s %12s %10s %12s\n' tool seconds MB/s packets/s "peak RSS" "phonehome is"
base=$(echo "$results" | awk '$1=="phonehome"{print $2}')
echo "$results" | while read -r name secs rss; do
  awk -v n="$name" -v s="$secs" -v r="$rss" -v b="$bytes" -v p="$packets" -v base="$base" 'BEGIN{
    s = (s < 0.01 ? 0.01 : s);
    printf "%-11s %9.2f %9.1f %12.0f %8.0f MB %11.1fx\n", n, s, b/1e6/s, p/s, r/1024, s/base }'
done
