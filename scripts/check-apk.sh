#!/usr/bin/env bash
# Checks an APK built by build-apk.sh: its signature, what Android reads from its manifest (package, SDK levels,
# permissions), and that R8 kept every class the manifest names and the bindings JNA reaches by name.
# Usage: scripts/check-apk.sh APK
set -euo pipefail
apk=${1:?usage: check-apk.sh APK}
failures=0
check() { # check DESCRIPTION COMMAND...
  if "${@:2}" >/dev/null 2>&1; then echo "ok   $1"; else echo "FAIL $1"; failures=$((failures + 1)); fi
}

apksigner verify --min-sdk-version 24 "$apk"
check "signature verifies (apksigner, from API 24)" apksigner verify --min-sdk-version 24 "$apk"
badging=$(aapt2 dump badging "$apk" 2>/dev/null)
check "package org.phonehome" grep -q "^package: name='org.phonehome'" <<<"$badging"
check "minSdk 24" grep -qx "sdkVersion:'24'" <<<"$badging"
check "targetSdk 36" grep -qx "targetSdkVersion:'36'" <<<"$badging"
for permission in INTERNET ACCESS_NETWORK_STATE FOREGROUND_SERVICE FOREGROUND_SERVICE_SPECIAL_USE POST_NOTIFICATIONS \
  RECEIVE_BOOT_COMPLETED QUERY_ALL_PACKAGES; do
  check "permission $permission" grep -q "uses-permission: name='android.permission.$permission'" <<<"$badging"
done
check "launcher activity" grep -q "launchable-activity: name='org.phonehome.ui.MainActivity'" <<<"$badging"

classes=$(mktemp -d)
trap 'rm -rf "$classes"' EXIT
unzip -q -o "$apk" 'classes*.dex' -d "$classes"
descriptors=$(dexdump "$classes"/classes*.dex 2>/dev/null | sed -n "s/^  Class descriptor  : '\(.*\)'/\1/p")
manifest=$(aapt2 dump xmltree --file AndroidManifest.xml "$apk" 2>/dev/null)
# Components are named relative to the package (".ui.MainActivity") or in full.
components=$(grep -oE 'android:name\(0x01010003\)="(org\.phonehome)?\.[A-Za-z.]+"' <<<"$manifest" | sed 's/.*="\(.*\)"/\1/;s/^\./org.phonehome./' | sort -u || true)
check "the manifest names components" test -n "$components"
for component in $components; do
  check "dex has $component" grep -qx "L${component//.//};" <<<"$descriptors"
done
check "dex has the VPN service" grep -qx "Lorg/phonehome/vpn/PhonehomeVpnService;" <<<"$descriptors"
check "dex has the bindings (org.phonehome.core.Monitor)" grep -qx "Lorg/phonehome/core/Monitor;" <<<"$descriptors"
check "JNA's native library for arm64" sh -c "unzip -l '$apk' | grep -q 'lib/arm64-v8a/libjnidispatch.so'"
echo "$failures failed"
[ "$failures" -eq 0 ]
