#!/usr/bin/env bash
# Builds a signed APK of the app without the Android SDK, from the same sources as Gradle: aapt2 (Debian)
# links res/ and the manifest, Kotlin compiles as in the JVM tests, R8 (Maven Central) shrinks and dexes for
# API 24 with proguard-rules.pro and aapt2's keep rules, zipalign and apksigner (Debian) sign it with a debug
# key made on the fly. The APK has no libphonehome_ffi.so (no NDK here): the Gradle build adds it.
# The last line of output is the APK's path. Usage: scripts/build-apk.sh
set -euo pipefail
source "$(dirname "$0")/android-env.sh"
cd "$root"
need zipalign:zipalign apksigner:apksigner keytool:default-jdk-headless jar:default-jdk-headless zip:zip

build_app
r8_jar=$(artifact "com.android.tools:r8:$r8_version")
jna_aar=$(artifact "net.java.dev.jna:jna:$jna_version:aar")

apk=$out/apk
rm -rf "$apk" && mkdir -p "$apk/dex" "$apk/lib"

log "R8 $r8_version: shrink and dex for API $min_sdk"
jar cf "$apk/classes.jar" -C "$out/classes/main" .
# android-all has no java.*: the JDK stands in for Android's core library, as when compiling.
jdk_home=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
java -cp "$r8_jar" com.android.tools.r8.R8 --release --min-api $min_sdk --output "$apk/dex" \
  --lib "$api_jar" --lib "$jdk_home" --pg-conf "$app/proguard-rules.pro" --pg-conf "$out/res/aapt-rules.pro" \
  --pg-map-output "$apk/mapping.txt" \
  "$apk/classes.jar" $(tr : ' ' <<<"$runtime_cp")

log "APK: linked resources + classes.dex + JNA's native dispatch library"
cp "$out/res/resources.ap_" "$apk/unsigned.apk"
(cd "$apk/dex" && zip -q -X "$apk/unsigned.apk" classes*.dex)
unzip -q -o "$jna_aar" 'jni/arm64-v8a/*' 'jni/armeabi-v7a/*' 'jni/x86_64/*' -d "$apk/lib" # Gradle's abiFilters
(cd "$apk/lib" && mv jni lib && zip -q -X -0 -r "$apk/unsigned.apk" lib)
zipalign -p -f 4 "$apk/unsigned.apk" "$apk/aligned.apk"

log "sign with a debug key made for this build (never committed)"
keystore=$out/debug.keystore
[ -s "$keystore" ] || keytool -genkeypair -keystore "$keystore" -storepass android -keypass android -alias debug \
  -keyalg RSA -keysize 2048 -validity 10000 -dname "CN=phonehome debug" -noprompt >/dev/null 2>&1
apksigner sign --ks "$keystore" --ks-pass pass:android --ks-key-alias debug --out "$apk/phonehome-debug.apk" "$apk/aligned.apk"
echo "no libphonehome_ffi.so inside (no NDK on this machine): install the Gradle build on a phone (./gradlew assembleRelease)"
echo "$apk/phonehome-debug.apk"
