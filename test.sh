#!/usr/bin/env bash
# Sets up what the tests need on a fresh Debian machine and runs every test of the project.
# Usage: ./test.sh            (CI runs it through .ci/run)
set -euo pipefail
cd "$(dirname "$0")"

log() { printf '\n== %s\n' "$*"; }

need_apt=()
for tool in ip:iproute2 tshark:tshark curl:curl chromium:chromium openssl:openssl mvn:maven javac:default-jdk-headless \
  aapt2:aapt apksigner:apksigner zipalign:zipalign dexdump:dexdump zip:zip unzip:unzip; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need_apt+=("${tool#*:}")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "cargo not found: install Rust (https://rustup.rs)" >&2; exit 1; }

log "format and lints"
cargo fmt --all --check
# Shipped code may not unwrap; tests, benches and examples may (a panic is how they report failure).
cargo clippy --workspace --lib --bins --locked -q -- -D warnings
cargo clippy --workspace --tests --benches --examples --locked -q -- -D warnings -A clippy::unwrap_used

log "Rust tests (unit, property, corpus agreement, end to end)"
cargo test --workspace --locked

log "fuzz targets: every parser replays its seeds and known crashes, then is fuzzed 10 s (scripts/fuzz.sh)"
scripts/fuzz.sh 10

log "Android app on the JVM (Kotlin sources against the Android API jars, unit tests, FFI on a real TUN)"
scripts/jvm-tests.sh

log "Android app: the APK (aapt2, R8, zipalign, apksigner) and its checks"
apk=$(scripts/build-apk.sh | tail -n 1)
scripts/check-apk.sh "$apk"

log "Android app under Robolectric (API 24, 29, 33, 36: screens, service, notifications, network, exports)"
scripts/robolectric.sh

log "all tests passed"
