//! Logs of the Rust side: Android's log buffer on the phone (tag `phonehome`), nothing elsewhere.

/// Routes the monitor's logs at `level` (`error`…`trace`) and above to the platform log; call once.
#[uniffi::export]
pub fn init_logging(level: String) {
    static PANIC_HOOK: std::sync::Once = std::sync::Once::new();
    let filter = level.parse::<log::LevelFilter>().unwrap_or(log::LevelFilter::Info);
    platform_logger(filter);
    log::set_max_level(filter);
    // A panic is caught at the boundary and raised in Kotlin; its message should reach the log too.
    PANIC_HOOK.call_once(|| {
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            log::error!("panic: {info}");
            default_hook(info);
        }));
    });
}

#[cfg(target_os = "android")]
fn platform_logger(filter: log::LevelFilter) {
    android_logger::init_once(android_logger::Config::default().with_max_level(filter).with_tag("phonehome"));
}

/// Hosts (the JVM tests) read the monitor through its records; its logs stay off.
#[cfg(not(target_os = "android"))]
fn platform_logger(_filter: log::LevelFilter) {}
