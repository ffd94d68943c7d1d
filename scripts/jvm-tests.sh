#!/usr/bin/env bash
# The Android app's JVM checks, on a machine with no Android SDK: fetches the Kotlin compiler, JUnit, JNA
# and the Android API jar (org.robolectric:android-all) from Maven Central into target-jvm/, builds the
# ffi library for the host, generates its Kotlin bindings with the in-workspace uniffi-bindgen, compiles
# every android-app Kotlin source with them against the Android API, then compiles and runs the JVM tests
# (unit tests, and the live engine test on a real TUN in network namespaces when run as root).
# Closes with "N passed, N failed"; exits non-zero on any failure. Usage: scripts/jvm-tests.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${PHONEHOME_JVM_OUT:-$root/target-jvm} # a separate folder lets two checkouts run at once
app=$root/android-app

kotlin_version=2.2.21
android_all=16-robolectric-13921718 # Android 16, API 36 = the app's targetSdk
jna_version=5.17.0
junit_version=4.13.2

log() { printf '\n== %s\n' "$*"; }

# --- jars: two Maven projects, one for the compiler, one for what the app and its tests link ------------
fetch() { # fetch NAME DEPENDENCY...
  local name=$1 dir=$out/lib/$1 stamp
  shift
  stamp="$*"
  if [ "$(cat "$dir/.stamp" 2>/dev/null)" = "$stamp" ]; then return; fi
  rm -rf "$dir" && mkdir -p "$dir"
  {
    echo '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
    echo "<groupId>local</groupId><artifactId>$name</artifactId><version>0</version><dependencies>"
    for coordinate in "$@"; do
      IFS=: read -r group artifact version <<<"$coordinate"
      echo "<dependency><groupId>$group</groupId><artifactId>$artifact</artifactId><version>$version</version></dependency>"
    done
    echo '</dependencies></project>'
  } >"$dir/pom.xml"
  mvn -B -q -f "$dir/pom.xml" -Dmaven.repo.local="$out/m2" dependency:copy-dependencies -DoutputDirectory="$dir" \
    -DincludeScope=runtime
  echo "$stamp" >"$dir/.stamp"
}
for tool in mvn java javac python3 cargo; do
  command -v "$tool" >/dev/null || { echo "$tool not found (Debian: apt-get install maven default-jdk-headless python3)" >&2; exit 1; }
done
log "jars from Maven Central (cached in target-jvm/)"
fetch compiler "org.jetbrains.kotlin:kotlin-compiler-embeddable:$kotlin_version"
fetch app "org.jetbrains.kotlin:kotlin-stdlib:$kotlin_version" "net.java.dev.jna:jna:$jna_version" \
  "org.robolectric:android-all:$android_all" "junit:junit:$junit_version"
classpath() { find "$out/lib/$1" -name '*.jar' | sort | paste -sd: -; }
compiler_cp=$(classpath compiler)
app_jars=$(find "$out/lib/app" -name '*.jar' ! -name 'junit-*' ! -name 'hamcrest-*' | sort | paste -sd: -)
# JUnit first: android-all carries an old junit.framework of its own.
test_jars=$(find "$out/lib/app" -name 'junit-*.jar' -o -name 'hamcrest-*.jar' | sort | paste -sd: -):$app_jars

# --- the host library and its bindings -----------------------------------------------------------------
log "ffi library and Kotlin bindings"
target=${CARGO_TARGET_DIR:-$root/target}
cargo build --locked -q -p phonehome-ffi -p uniffi-bindgen
library=$target/debug/libphonehome_ffi.so
rm -rf "$out/bindings" && mkdir -p "$out/bindings"
"$target/debug/uniffi-bindgen" generate --library "$library" --language kotlin --no-format --out-dir "$out/bindings"

# --- R: the resource ids aapt2 would generate, from res/ (a name that does not exist fails to compile) ---
python3 - "$app/src/main/res" "$out/gen/org/phonehome/R.java" <<'EOF'
import os, re, sys
res, dest = sys.argv[1], sys.argv[2]
kinds = {}
def add(kind, name):
    kinds.setdefault(kind, set()).add(re.sub(r'[.\-]', '_', name))
for folder in sorted(os.listdir(res)):
    kind = folder.split('-')[0]
    for file in sorted(os.listdir(os.path.join(res, folder))):
        text = open(os.path.join(res, folder, file), encoding='utf-8').read()
        if kind == 'values':
            for tag, name in re.findall(r'<(string|color|style|dimen|plurals|bool|integer)\s+name="([^"]+)"', text):
                add(tag, name)
        else:
            add(kind, file.split('.')[0])
        for name in re.findall(r'@\+id/([A-Za-z0-9_]+)', text):
            add('id', name)
os.makedirs(os.path.dirname(dest), exist_ok=True)
with open(dest, 'w') as out:
    out.write('package org.phonehome;\npublic final class R {\n')
    n = 0x7f000000
    for kind in sorted(kinds):
        out.write(f'  public static final class {kind} {{\n')
        for name in sorted(kinds[kind]):
            n += 1
            out.write(f'    public static final int {name} = {n};\n')
        out.write('  }\n')
    out.write('}\n')
EOF
mkdir -p "$out/classes/r"
javac -nowarn -d "$out/classes/r" "$out/gen/org/phonehome/R.java"

# --- Kotlin: the app against the Android API, then the tests against the app --------------------------
kotlinc() { java -Xss8m -Xmx2g -cp "$compiler_cp" org.jetbrains.kotlin.cli.jvm.K2JVMCompiler \
  -no-stdlib -no-reflect -jvm-target 17 -nowarn "$@"; }
log "compile android-app (Kotlin $kotlin_version, android-all $android_all)"
rm -rf "$out/classes/main" "$out/classes/test"
mapfile -t main_sources < <(find "$app/src/main" "$out/bindings" -name '*.kt' | sort)
# android-all has no java.*: the JDK supplies it (an API newer than the phone's is not caught here).
kotlinc -cp "$app_jars:$out/classes/r" -d "$out/classes/main" "${main_sources[@]}"
log "compile the JVM tests"
mapfile -t test_sources < <(find "$app/src/test" "$app/src/hostTest" -name '*.kt' | sort)
kotlinc -cp "$test_jars:$out/classes/r:$out/classes/main" -d "$out/classes/test" "${test_sources[@]}"

# --- run -----------------------------------------------------------------------------------------------
log "run the JVM tests"
# jna.library.path: the bindings load libphonehome_ffi.so exactly as the app does, through JNA.
java -Djna.library.path="$target/debug" -cp "$test_jars:$out/classes/r:$out/classes/main:$out/classes/test" \
  org.phonehome.host.JvmTestMainKt "$out/classes/test"
