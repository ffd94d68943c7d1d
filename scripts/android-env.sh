# Shared by jvm-tests.sh, build-apk.sh and robolectric.sh (sourced, not run): the versions, the jars from
# Maven Central (cached in target-jvm/), the host ffi library and its Kotlin bindings, the resources linked by
# aapt2, and the app's classes. Each step skips its work when its inputs did not change, so the scripts can
# run one after the other without compiling twice.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${PHONEHOME_JVM_OUT:-$root/target-jvm} # a separate folder lets two checkouts run at once
app=$root/android-app
target=${CARGO_TARGET_DIR:-$root/target}

kotlin_version=2.2.21
jna_version=5.17.0
junit_version=4.13.2
robolectric_version=4.16
r8_version=8.11.18
# Android API jars (org.robolectric:android-all): the app compiles against 16 (API 36, its targetSdk); all but
# the `compat` package also against 7.0 (API 24, its minSdk), so a call above 24 outside a guard fails to
# compile; aapt2 links against 14 (Debian's aapt2 cannot read the 16 jar's resource table).
android_all=16-robolectric-13921718
android_all_min=7.0.0_r1-robolectric-r1
android_all_link=14-robolectric-10818077
min_sdk=24
target_sdk=36
version_code=1
version_name=0.1.0
package_name=org.phonehome
# Java 8 APIs that Android adds only after API 24 (and Kotlin's wrappers of them).
java_above_min='java/time/|java/nio/file/|kotlin/io/path/|java/util/concurrent/Flow|java/lang/ref/Cleaner'

log() { printf '\n== %s\n' "$*"; }

need() { # need TOOL:DEBIAN_PACKAGE...
  local spec
  for spec in "$@"; do
    command -v "${spec%%:*}" >/dev/null || { echo "${spec%%:*} not found (Debian: apt-get install ${spec#*:})" >&2; exit 1; }
  done
}

# Writes a stamp of the given files' contents (and of extra words) to stdout.
stamp_of() { # stamp_of WORDS -- FILE...
  local words=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do words+=("$1"); shift; done
  shift
  { printf '%s\n' "${words[@]}"; cat "$@" 2>/dev/null; } | sha256sum | cut -d' ' -f1
}

# Runs COMMAND... unless DIR/.stamp holds STAMP; records STAMP after a success.
unless_done() { # unless_done DIR STAMP COMMAND...
  local dir=$1 stamp=$2
  shift 2
  if [ "$(cat "$dir/.stamp" 2>/dev/null)" = "$stamp" ]; then return; fi
  rm -rf "$dir" && mkdir -p "$dir"
  "$@"
  echo "$stamp" >"$dir/.stamp"
}

# --- jars from Maven Central ---------------------------------------------------------------------------
mvn_in() { mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$out/m2" "$@"; }

# fetch NAME DEPENDENCY...: the dependencies and everything they need, in $out/lib/NAME.
fetch() {
  local name=$1
  shift
  unless_done "$out/lib/$name" "$*" fetch_into "$out/lib/$name" "$@"
}
fetch_into() {
  local dir=$1 coordinate group artifact version
  shift
  {
    echo '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
    echo "<groupId>local</groupId><artifactId>$(basename "$dir")</artifactId><version>0</version><dependencies>"
    for coordinate in "$@"; do
      IFS=: read -r group artifact version <<<"$coordinate"
      echo "<dependency><groupId>$group</groupId><artifactId>$artifact</artifactId><version>$version</version></dependency>"
    done
    echo '</dependencies></project>'
  } >"$dir/pom.xml"
  mvn_in -f "$dir/pom.xml" dependency:copy-dependencies -DoutputDirectory="$dir" -DincludeScope=runtime
}

# artifact GROUP:ARTIFACT:VERSION[:PACKAGING]: one file without its dependencies; prints its path.
artifact() {
  local coordinate=$1 group artifact version packaging file
  IFS=: read -r group artifact version packaging <<<"$coordinate"
  file=$out/lib/single/$artifact-$version.${packaging:-jar}
  if [ ! -s "$file" ]; then
    mkdir -p "$out/lib/single"
    mvn_in dependency:copy -Dartifact="$coordinate" -DoutputDirectory="$out/lib/single" >&2
  fi
  echo "$file"
}

classpath() { find "$out/lib/$1" -name '*.jar' | sort | paste -sd: -; }

# The compiler, and what the app links (Kotlin's standard library, JNA, the Android API jars).
app_jars() {
  fetch compiler "org.jetbrains.kotlin:kotlin-compiler-embeddable:$kotlin_version"
  fetch app "org.jetbrains.kotlin:kotlin-stdlib:$kotlin_version" "net.java.dev.jna:jna:$jna_version"
  api_jar=$(artifact "org.robolectric:android-all:$android_all")
  api_min_jar=$(artifact "org.robolectric:android-all:$android_all_min")
  api_link_jar=$(artifact "org.robolectric:android-all:$android_all_link")
  compiler_cp=$(classpath compiler)
  runtime_cp=$(classpath app) # kotlin-stdlib and JNA: packed into the APK
}

# kotlinc [-Xjdk-release=1.8 | -jvm-target N] ARGS...: Java 17 bytecode unless the first argument says otherwise.
kotlinc() {
  local target=(-jvm-target 17)
  case ${1:-} in -Xjdk-release=* | -jvm-target) target=() ;; esac
  java -Xss8m -Xmx2g -cp "$compiler_cp" org.jetbrains.kotlin.cli.jvm.K2JVMCompiler \
    -no-stdlib -no-reflect "${target[@]}" -nowarn "$@"
}

# --- the host library and its bindings -----------------------------------------------------------------
host_bindings() {
  log "ffi library and Kotlin bindings"
  cargo build --locked -q -p phonehome-ffi -p uniffi-bindgen
  library=$target/debug/libphonehome_ffi.so
  rm -rf "$out/bindings" && mkdir -p "$out/bindings"
  "$target/debug/uniffi-bindgen" generate --library "$library" --language kotlin --no-format --out-dir "$out/bindings"
}

# --- resources: aapt2 compiles res/ and links it with the manifest -------------------------------------
# $out/res/: AndroidManifest.xml (placeholders substituted, package and SDK levels set), resources.ap_ (the
# linked resources and binary manifest: the APK's base, and what Robolectric loads), gen/R.java and
# aapt-rules.pro (keep rules for the classes the manifest names). A reference to a missing resource fails.
link_resources() {
  need aapt2:aapt
  local inputs
  inputs=$(stamp_of "$api_link_jar" $min_sdk $target_sdk $version_code $version_name -- \
    "$app/src/main/AndroidManifest.xml" $(find "$app/src/main/res" -type f | sort))
  unless_done "$out/res" "$inputs" link_resources_into "$out/res"
}
link_resources_into() {
  local dir=$1
  log "resources: aapt2 compile and link against android-all $android_all_link"
  sed -e "s/\${applicationId}/$package_name/g" \
    -e "s|<manifest xmlns:android=\"http://schemas.android.com/apk/res/android\">|<manifest xmlns:android=\"http://schemas.android.com/apk/res/android\" package=\"$package_name\" android:versionCode=\"$version_code\" android:versionName=\"$version_name\">\n    <uses-sdk android:minSdkVersion=\"$min_sdk\" android:targetSdkVersion=\"$target_sdk\" />|" \
    "$app/src/main/AndroidManifest.xml" >"$dir/AndroidManifest.xml"
  grep -q "package=\"$package_name\"" "$dir/AndroidManifest.xml" || { echo "manifest: no <manifest> element to set the package on" >&2; return 1; }
  aapt2 compile --dir "$app/src/main/res" -o "$dir/compiled.zip"
  # Debian's aapt2 predates <property> (API 31): manifest *validation* warns instead of failing; resource
  # references are still checked.
  aapt2 link -o "$dir/resources.ap_" -I "$api_link_jar" --manifest "$dir/AndroidManifest.xml" \
    --min-sdk-version $min_sdk --target-sdk-version $target_sdk --java "$dir/gen" --proguard "$dir/aapt-rules.pro" \
    --warn-manifest-validation "$dir/compiled.zip" 2> >(grep -v "Unknown chunk type" >&2)
}

# --- the app's classes ---------------------------------------------------------------------------------
# org.phonehome.compat (the only code that calls above minSdk, each call behind a version check) compiles
# against API 36; everything else against API 24, with the JDK's API limited to Java 8 (-Xjdk-release), and
# may not name the java.* packages that Android 7 lacks although Java 8 has them (android-all carries no
# java.lang, so the JDK stands in for Android's core library).
compile_app() {
  local sources inputs
  mapfile -t sources < <(find "$app/src/main/kotlin" "$out/bindings" -name '*.kt' | sort)
  inputs=$(stamp_of "$kotlin_version" "$api_jar" "$api_min_jar" "$runtime_cp" -- "${sources[@]}" "$out/res/gen/org/phonehome/R.java")
  unless_done "$out/classes/main" "$inputs" compile_app_into "$out/classes/main" "${sources[@]}"
}
compile_app_into() {
  local dir=$1 compat=() rest=() source
  shift
  for source in "$@"; do
    case $source in */org/phonehome/compat/*) compat+=("$source") ;; *) rest+=("$source") ;; esac
  done
  log "compile android-app (Kotlin $kotlin_version): compat against API $target_sdk, the rest against API $min_sdk"
  rm -rf "$dir/../r" && mkdir -p "$dir/../r"
  javac -nowarn --release 8 -d "$dir/../r" "$out/res/gen/org/phonehome/R.java"
  [ ${#compat[@]} -eq 0 ] || kotlinc -cp "$runtime_cp:$api_jar" -d "$dir" "${compat[@]}"
  kotlinc -Xjdk-release=1.8 -cp "$runtime_cp:$api_min_jar:$dir/../r:$dir" -d "$dir" "${rest[@]}"
  cp -r "$dir/../r/." "$dir/"
  local above_min
  above_min=$(grep -rlE "$java_above_min" "$dir" --include='*.class' | grep -v /compat/ || true)
  if [ -n "$above_min" ]; then
    echo "classes naming a java.* API that Android $min_sdk lacks (java.time, java.nio.file: API 26):" >&2
    echo "$above_min" >&2
    return 1
  fi
}

# Everything up to the app's classes: jars, bindings, resources, compile.
build_app() {
  need mvn:maven java:default-jdk-headless javac:default-jdk-headless cargo:rustup
  log "jars from Maven Central (cached in target-jvm/)"
  app_jars
  host_bindings
  link_resources
  compile_app
}
