#!/usr/bin/env bash
# The Android app's JVM checks, on a machine with no Android SDK: builds the app's classes as
# scripts/android-env.sh does (Maven Central jars, the host ffi library and its bindings, aapt2's R, every
# Kotlin source against the Android API), then compiles and runs the plain JVM tests (src/test) and the host
# tests (src/hostTest: the live engine on a real TUN in network namespaces when run as root).
# Closes with "N passed, N failed"; exits non-zero on any failure. Usage: scripts/jvm-tests.sh
set -euo pipefail
source "$(dirname "$0")/android-env.sh"
cd "$root"

build_app
fetch junit "junit:junit:$junit_version"
# JUnit first: android-all carries an old junit.framework of its own.
test_cp=$(classpath junit):$runtime_cp:$api_jar

log "compile the JVM tests"
rm -rf "$out/classes/test"
mapfile -t test_sources < <(find "$app/src/test" "$app/src/hostTest" -name '*.kt' | sort)
kotlinc -cp "$test_cp:$out/classes/main" -d "$out/classes/test" "${test_sources[@]}"

log "run the JVM tests"
# jna.library.path: the bindings load libphonehome_ffi.so exactly as the app does, through JNA.
java -Djna.library.path="$target/debug" -cp "$test_cp:$out/classes/main:$out/classes/test" \
  org.phonehome.host.JvmTestMainKt "$out/classes/test"
