//! The report: terminal text and one self-contained HTML page, rendered by headless Chromium.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too; a failed unwrap is a failed test

#[path = "../../store/tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;

use common::{alert, flow, open};
use phonehome_engine::FlowSink;
use phonehome_model::AlertKind;
use phonehome_report::Report;
use phonehome_store::History;

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 700;

/// A day of traffic from three apps, one with a hostile name and an identifier leak.
fn report_store(path: &Path) -> History {
    let store = open(path);
    let mut sink = store.sink().unwrap();
    for hour in 0..24 {
        for minute in (0..60).step_by(10) {
            sink.flow_ended(flow("Gallery", 10050, "photos.example", hour * 3600 + minute * 60), Vec::new());
        }
        if hour % 3 == 0 {
            let mut leak = flow("<script>alert(1)</script> & \"Co\"", 10051, "sa.api.intl.miui.com", hour * 3600);
            leak.country = Some("CN".into());
            leak.asn = Some(4134);
            leak.as_org = Some("<b>CHINANET</b>".into());
            sink.flow_ended(leak.clone(), Vec::new());
            if hour == 9 {
                sink.record_alert(alert(&leak, AlertKind::IdentifierLeak, "imei in <query>"));
            }
        }
    }
    sink.flow_ended(flow("小米浏览器", 10052, "tracking.intl.miui.com", 12 * 3600), Vec::new());
    sink.flush().unwrap();
    store.history().unwrap()
}

#[test]
fn text_report_lists_apps_timeline_and_networks() {
    let dir = tempfile::tempdir().unwrap();
    let history = report_store(&dir.path().join("store.db"));
    let report = Report::build(&history).unwrap();
    assert_eq!(report.apps.len(), 3);
    assert_eq!(report.buckets, 24);
    let mut out = Vec::new();
    report.write_text(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("phonehome report: 3 apps"), "{text}");
    assert!(text.contains("one column = 1 h"), "{text}");
    let gallery = text.lines().find(|l| l.starts_with("Gallery") && l.contains('|')).unwrap();
    assert_eq!(gallery.chars().filter(|c| *c == '█').count(), 24, "{gallery}");
    assert!(text.contains("AS4134"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("Gallery") && l.contains("photos.example (")), "{text}");
    assert!(text.lines().any(|l| l.contains("<script>") && l.contains('!')), "alert marker missing:\n{text}");
}

#[test]
fn html_report_is_self_contained_escaped_and_renders_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let history = report_store(&dir.path().join("store.db"));
    let html_path = dir.path().join("report.html");
    let mut page = Vec::new();
    Report::build(&history).unwrap().write_html(&mut page).unwrap();
    let html = String::from_utf8(page).unwrap();
    assert!(!html.contains("<script"), "unescaped app name");
    assert!(!html.contains("<b>"), "unescaped network name");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; \"Co\""));
    assert_eq!(html.matches("<svg").count(), 3);
    assert!(html.contains("<div>sa.api.intl.miui.com <span class=m>"));
    assert!(!html.contains("src=") && !html.contains("href=") && !html.contains("@import"), "external resource");
    std::fs::write(&html_path, &html).unwrap();

    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success()));
    let Some(chromium) = chromium else {
        common::may_run(
            "html_report_renders_in_chromium",
            false,
            "chromium is not installed (apt-get install chromium)",
        );
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let screenshot = dir.path().join("report.png");
    let output = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        .args(["--disable-component-update", "--no-first-run", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--window-size={WIDTH},{HEIGHT}"))
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(format!("file://{}", html_path.display()))
        .output()
        .unwrap();
    assert!(screenshot.exists(), "no screenshot: {}", String::from_utf8_lossy(&output.stderr));

    let decoder = png::Decoder::new(std::fs::File::open(&screenshot).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((frame.width, frame.height), (WIDTH, HEIGHT));
    let channels = frame.color_type.samples();
    assert!(channels >= 3, "{:?}", frame.color_type);
    let rgb: Vec<[u8; 3]> = pixels[..frame.buffer_size()].chunks_exact(channels).map(|p| [p[0], p[1], p[2]]).collect();
    let near = |pixel: &[u8; 3], target: [u8; 3]| pixel.iter().zip(target).all(|(a, b)| a.abs_diff(b) <= 12);
    let white = rgb.iter().filter(|p| near(p, [255, 255, 255])).count();
    let bars = rgb.iter().filter(|p| near(p, [0x2f, 0x6f, 0xb3])).count();
    let alerts = rgb.iter().filter(|p| near(p, [0xd0, 0x30, 0x2f])).count();
    let dark_text = rgb.iter().filter(|p| p.iter().all(|c| *c < 80)).count();
    // Not blank: a white page with text, blue timeline bars and a red alert bar.
    assert!(white > rgb.len() / 3, "white {white}");
    assert!(bars > 24 * 4 * 10, "blue bar pixels {bars}");
    assert!(alerts > 4 * 10, "red alert pixels {alerts}");
    assert!(dark_text > 500, "text pixels {dark_text}");
}
