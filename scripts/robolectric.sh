#!/usr/bin/env bash
# The app under Android's own framework code on the JVM (Robolectric): every screen inflated from the
# resources aapt2 linked, the service, notifications, network changes and exports, at API 24, 29, 33 and 36,
# reading a real history (written by the engine from samples/phone-session.pcap) through the bindings and the
# host-built libphonehome_ffi.so. Closes with "N passed, N failed"; exits non-zero on any failure.
# Usage: scripts/robolectric.sh [--screenshots DIR]   (with --screenshots: only render every screen to PNGs)
set -euo pipefail
source "$(dirname "$0")/android-env.sh"
cd "$root"

screenshots=
if [ "${1:-}" = --screenshots ]; then screenshots=$(realpath -m "${2:?usage: robolectric.sh --screenshots DIR}"); shift 2; fi

build_app
fetch robolectric "org.robolectric:robolectric:$robolectric_version" "junit:junit:$junit_version"
# Android libraries come as AARs: their classes.jar is what the JVM loads.
for aar in "$out"/lib/robolectric/*.aar; do
  [ -e "$aar" ] || continue
  [ -s "${aar%.aar}.jar" ] || unzip -p "$aar" classes.jar >"${aar%.aar}.jar"
done
# Robolectric's instrumented Android of each API level tested, read offline from the jar folder.
for version in 7.0.0_r1-robolectric-r1-i7 10-robolectric-5803371-i7 13-robolectric-9030017-i7 16-robolectric-13921718-i7; do
  artifact "org.robolectric:android-all-instrumented:$version" >/dev/null
done

# API 36 runs on Java 21 or later (Robolectric's rule): the newest JDK installed.
robo_java=
for home in /usr/lib/jvm/*; do
  [ -x "$home/bin/java" ] || continue
  version=$("$home/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' || true)
  if [ -n "$version" ] && [ "${version%%.*}" -ge 21 ] 2>/dev/null; then robo_java=$home/bin/java; fi
done
[ -n "$robo_java" ] || { echo "Robolectric at API 36 needs Java 21+: none in /usr/lib/jvm" >&2; exit 1; }

log "the sample history: phonehome analyze samples/phone-session.pcap --db, attributed to the sample's apps"
cargo build --locked -q -p phonehome --bin phonehome
fixtures=$out/robolectric/fixtures
rm -rf "$fixtures" && mkdir -p "$fixtures"
"$target/debug/phonehome" analyze samples/phone-session.pcap --ids samples/ids.toml --db "$fixtures/history.sqlite" -q
python3 scripts/sample-history.py "$fixtures/history.sqlite"

# Robolectric finds the linked resources and the merged manifest through this file on the classpath.
config=$out/robolectric/config
mkdir -p "$config/com/android/tools"
cat >"$config/com/android/tools/test_config.properties" <<EOF
android_merged_manifest=$out/res/AndroidManifest.xml
android_resource_apk=$out/res/resources.ap_
android_custom_package=$package_name
EOF

log "compile the Robolectric tests"
robo_cp=$(classpath robolectric):$runtime_cp
rm -rf "$out/classes/robolectric"
# The runner is the JVM tests' own (src/hostTest/.../JvmTestMain.kt).
mapfile -t sources < <(find "$app/src/robolectric" "$app/src/hostTest/kotlin/org/phonehome/host/JvmTestMain.kt" -name '*.kt' | sort)
kotlinc -cp "$robo_cp:$api_jar:$out/classes/main" -d "$out/classes/robolectric" "${sources[@]}"

log "run the Robolectric tests (API 24, 29, 33, 36)"
properties=(
  -Drobolectric.offline=true -Drobolectric.dependency.dir="$out/lib/single" ${ROBOLECTRIC_LOGCAT:+-Drobolectric.logging=stdout}
  -Djna.library.path="$target/debug" -Dphonehome.fixtures="$fixtures"
)
[ -z "$screenshots" ] || properties+=(-Dphonehome.screenshots="$screenshots")
# java.io opened: Robolectric reads a ParcelFileDescriptor's fd number from FileDescriptor.fd.
"$robo_java" -Xmx3g -XX:+UseParallelGC --add-opens=java.base/java.io=ALL-UNNAMED --enable-native-access=ALL-UNNAMED "${properties[@]}" \
  -cp "$config:$robo_cp:$out/classes/main:$out/classes/robolectric:$api_jar" \
  org.phonehome.host.JvmTestMainKt "$out/classes/robolectric" ${screenshots:+ScreenshotTest} "$@"
