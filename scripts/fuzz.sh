#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser that reads the wire or a file (fuzz/fuzz_targets/*.rs), time-boxed.
#
# Usage: scripts/fuzz.sh SECONDS [TARGET...]   fuzz each target (all by default) for SECONDS
#        scripts/fuzz.sh 0 [TARGET...]         only replay the seeds and the committed regressions (CI)
#
# Each target first replays fuzz/seeds/TARGET (inputs cut from the test captures, see fuzz/make_seeds.py) and
# fuzz/regressions/TARGET (every crash found so far), then mutates from them, growing fuzz/corpus/TARGET
# (not committed). A crash stops with the input in fuzz/artifacts/TARGET/: add it to fuzz/regressions/TARGET,
# fix it, and turn it into a unit test beside the parser. cargo-fuzz (libFuzzer, AddressSanitizer) needs a
# nightly toolchain: without one, the parsers' property tests run at 100 times their case count instead.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=($(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^phonehome-fuzz$'))
fi

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz.sh: no nightly toolchain (cargo-fuzz needs one, and rustup cannot fetch it from the package registries here):" >&2
  echo "fuzz.sh: running the parsers' property tests at 100x their case count instead" >&2
  PROPTEST_CASES=25600 cargo test --locked --release -p phonehome-packet -p phonehome-dns -p phonehome-http \
    -p phonehome-tls -p phonehome-quic -p phonehome-intel -p phonehome-leak -p phonehome-stack --lib
  exit
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2

# Debug assertions on: an arithmetic overflow is a finding too.
cargo +nightly fuzz build -a
failed=()
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
  inputs=("fuzz/seeds/$target")
  [ -d "fuzz/regressions/$target" ] && inputs+=("fuzz/regressions/$target")
  if [ "$seconds" -eq 0 ]; then
    flags=(-runs=0)
    echo "== $target: replaying $(find "${inputs[@]}" -type f | wc -l) inputs"
  else
    flags=(-max_total_time="$seconds")
    echo "== $target: fuzzing for $seconds s"
  fi
  if ! cargo +nightly fuzz run -a "$target" "fuzz/corpus/$target" "${inputs[@]}" -- \
      -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "${flags[@]}" 2>"fuzz/artifacts/$target/log.txt"; then
    failed+=("$target")
    tail -40 "fuzz/artifacts/$target/log.txt" >&2
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "fuzz/artifacts/$target/log.txt" | tr '\n' ' ' || true
  echo
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets, no crash"
