// The APK: Kotlin shell over the Rust engine (rust-core/ffi), built per ABI with cargo-ndk.
// Needs the Android SDK (compileSdk 36), the NDK (libs.versions.toml), Rust with the Android targets and
// cargo-ndk: rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android;
// cargo install cargo-ndk.
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
}

val workspace = rootProject.projectDir
val rustLibs = layout.buildDirectory.dir("rustJniLibs")
val bindings = layout.buildDirectory.dir("generated/uniffi")
val cargoProfile = "release"

android {
    namespace = "org.phonehome"
    compileSdk = 36
    ndkVersion = libs.versions.ndk.get()

    defaultConfig {
        applicationId = "org.phonehome"
        minSdk = 24
        targetSdk = 36
        versionCode = 1
        versionName = "0.1.0"
        ndk { abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64") }
    }

    buildTypes {
        release {
            isMinifyEnabled = true
            isShrinkResources = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
            // Sideloaded: signed with the debug key unless a release signing config is added.
            signingConfig = signingConfigs.getByName("debug")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    sourceSets["main"].jniLibs.srcDir(rustLibs)
    sourceSets["main"].java.srcDir(bindings)
    // Unit tests: the plain JVM ones and the Robolectric ones (real screens from the merged resources). Both
    // load the host build of libphonehome_ffi.so through JNA (cargoHostBuild below). src/hostTest runs on Linux
    // only (scripts/jvm-tests.sh): it needs root for its TUN device.
    sourceSets["test"].java.srcDir("src/robolectric/kotlin")
    testOptions.unitTests.isIncludeAndroidResources = true

    packaging { jniLibs.useLegacyPackaging = false }
}

kotlin { compilerOptions { jvmTarget.set(JvmTarget.JVM_17) } }

dependencies {
    // The uniffi bindings call the library through JNA; the AAR carries libjnidispatch.so per ABI.
    implementation("${libs.jna.get()}@aar")
    testImplementation(libs.junit)
    testImplementation(libs.jna) // the JVM tests touch the generated bindings' types
    testImplementation(libs.robolectric)
}

/** libphonehome_ffi.so for the machine running the unit tests, which reach it through JNA. */
val cargoHostBuild by tasks.registering(Exec::class) {
    group = "rust"
    description = "Builds rust-core/ffi for this machine, for the unit tests"
    workingDir = workspace
    inputs.dir(File(workspace, "rust-core"))
    outputs.dir(File(workspace, "target/debug"))
    commandLine("cargo", "build", "--locked", "-p", "phonehome-ffi")
}

/** The history the Robolectric tests read: the engine's analysis of the bundled capture, attributed to apps. */
val sampleHistory by tasks.registering(Exec::class) {
    group = "rust"
    description = "Writes the sample history for the Robolectric tests (scripts/sample-history.py)"
    workingDir = workspace
    val fixtures = layout.buildDirectory.dir("fixtures").get().asFile
    outputs.dir(fixtures)
    commandLine("bash", "-c", "rm -rf '$fixtures' && mkdir -p '$fixtures' && " +
        "cargo run --locked -q -p phonehome --bin phonehome -- analyze samples/phone-session.pcap --ids samples/ids.toml " +
        "--db '$fixtures/history.sqlite' -q && python3 scripts/sample-history.py '$fixtures/history.sqlite'")
}

tasks.withType<Test>().configureEach {
    dependsOn(cargoHostBuild, sampleHistory)
    systemProperty("jna.library.path", File(workspace, "target/debug").absolutePath)
    systemProperty("phonehome.fixtures", layout.buildDirectory.dir("fixtures").get().asFile.absolutePath)
    // Robolectric runs API 36 on Java 21+.
    javaLauncher.set(javaToolchains.launcherFor { languageVersion.set(JavaLanguageVersion.of(21)) })
}

/** cargo-ndk: libphonehome_ffi.so for every ABI into build/rustJniLibs/<abi>/. */
val cargoBuild by tasks.registering(Exec::class) {
    group = "rust"
    description = "Builds rust-core/ffi for arm64-v8a, armeabi-v7a and x86_64 with the NDK"
    workingDir = workspace
    inputs.dir(File(workspace, "rust-core"))
    inputs.file(File(workspace, "Cargo.lock"))
    outputs.dir(rustLibs)
    environment("ANDROID_NDK_HOME", android.ndkDirectory.absolutePath)
    commandLine(
        "cargo", "ndk",
        "-t", "arm64-v8a", "-t", "armeabi-v7a", "-t", "x86_64",
        "--platform", "24",
        "-o", rustLibs.get().asFile.absolutePath,
        "build", "--locked", "--profile", cargoProfile, "-p", "phonehome-ffi",
    )
}

/** Kotlin bindings generated from the built library by the workspace's own uniffi-bindgen (same version). */
val uniffiBindings by tasks.registering(Exec::class) {
    group = "rust"
    description = "Generates the uniffi Kotlin bindings of rust-core/ffi (library mode)"
    dependsOn(cargoBuild)
    workingDir = workspace
    inputs.dir(rustLibs)
    outputs.dir(bindings)
    commandLine(
        "cargo", "run", "--locked", "-q", "-p", "uniffi-bindgen", "--",
        "generate", "--library", rustLibs.get().file("arm64-v8a/libphonehome_ffi.so").asFile.absolutePath,
        "--language", "kotlin", "--out-dir", bindings.get().asFile.absolutePath,
    )
}

tasks.named("preBuild") { dependsOn(uniffiBindings) }
