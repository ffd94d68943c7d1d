//! Writes `samples/phone-session.pcap`: a short, made-up session of a phone under test that replays the
//! patterns of MISSION.md's cases (carrier self-registration in cleartext, vendor analytics, a government
//! domain lookup, a TLS connection without SNI). The identifiers in it are the ones of `samples/ids.toml`.
//!
//! Usage: `cargo run -p phonehome-testdata --bin make-sample [OUT]`

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use phonehome_testdata::proto::{
    dns_query, dns_response, http_request, http_response, tls_application_data, tls_client_hello,
};
use phonehome_testdata::CaptureBuilder;

const PHONE_V4: &str = "10.215.173.1";
const PHONE_V6: &str = "fd00:2:fd00:1::1";
const RESOLVER: &str = "10.215.173.2:53";

fn main() -> std::io::Result<()> {
    let out = std::env::args().nth(1).unwrap_or_else(|| "samples/phone-session.pcap".to_owned());
    let mut capture = CaptureBuilder::new(Duration::from_secs(1_732_190_400)); // 2024-11-21T12:00:00Z
    let resolver: SocketAddr = RESOLVER.parse().map_err(std::io::Error::other)?;
    let phone = |capture: &mut CaptureBuilder| -> SocketAddr {
        SocketAddr::new(PHONE_V4.parse().expect("constant"), capture.ephemeral_port())
    };

    // 1. The carrier self-registration ping: IMEI, ICCID and MAC in a cleartext HTTP POST.
    let registration: IpAddr = "61.160.224.10".parse().expect("constant");
    lookup(&mut capture, resolver, 0x1a01, "zzhc.vnet.cn", &[registration]);
    let body = br#"{"REGVER":"7.0","MEID":"","IMEI1":"490154203237518","ICCID":"89860318740207512345","MACID":"3c:5a:b4:01:02:03","MODEL":"Phone X"}"#;
    let request = http_request(
        "POST",
        "zzhc.vnet.cn",
        "/",
        &[("Content-Type", "application/encrypted-json"), ("User-Agent", "Dalvik/2.1.0")],
        body,
    );
    let client = phone(&mut capture);
    capture.tcp_session(
        client,
        SocketAddr::new(registration, 9988),
        &[(&request, &http_response(200, b"{\"resultCode\":0}"))],
    );

    // 2. Browser telemetry to vendor analytics hosted abroad: a cleartext GET carrying the visited URL in
    //    base64 and the Android ID, then TLS to the tracking host.
    capture.wait(Duration::from_millis(800));
    let analytics: IpAddr = "8.219.64.20".parse().expect("constant");
    lookup(&mut capture, resolver, 0x1a02, "sa.api.intl.miui.com", &[analytics]);
    let target =
        "/sa?project=browser&url=aHR0cHM6Ly9leGFtcGxlLm9yZy9zZWFyY2g%2FcT1wcml2YXRl&android_id=9774d56d682e549c";
    let request = http_request("GET", "sa.api.intl.miui.com", target, &[("User-Agent", "MiuiBrowser/14.0")], b"");
    let client = phone(&mut capture);
    capture.tcp_session(client, SocketAddr::new(analytics, 80), &[(&request, &http_response(204, b""))]);
    let tracking: IpAddr = "47.241.18.7".parse().expect("constant");
    lookup(&mut capture, resolver, 0x1a03, "tracking.intl.miui.com", &[tracking]);
    let client = phone(&mut capture);
    let hello = tls_client_hello(Some("tracking.intl.miui.com"), &["http/1.1"]);
    capture.tcp_session(
        client,
        SocketAddr::new(tracking, 443),
        &[(&hello, &tls_application_data(2400)), (&tls_application_data(900), &tls_application_data(120))],
    );

    // 3. A browser prefetching a government site's name: a DNS lookup alone (weak evidence).
    capture.wait(Duration::from_millis(500));
    lookup(&mut capture, resolver, 0x1a04, "www.gov.cn", &["180.97.104.12".parse().expect("constant")]);

    // 4. TLS straight to an address, without SNI.
    let bare: IpAddr = "203.0.113.77".parse().expect("constant");
    let client = phone(&mut capture);
    capture.tcp_session(
        client,
        SocketAddr::new(bare, 443),
        &[(&tls_client_hello(None, &[]), &tls_application_data(1500))],
    );

    // 5. An app's UDP beacon with the Wi-Fi MAC in clear text.
    let client = phone(&mut capture);
    capture.udp_exchange(
        client,
        "198.51.100.23:5683".parse().map_err(std::io::Error::other)?,
        b"HELLO dev=3c5ab4010203 v=2",
        b"OK",
    );

    // 6. An ordinary HTTPS request over IPv6, named by SNI and by the DNS answer before it.
    let v6_server: IpAddr = "2a00:1450:4001:82b::2004".parse().expect("constant");
    let phone6 = SocketAddr::new(PHONE_V6.parse().expect("constant"), capture.ephemeral_port());
    let resolver6: SocketAddr = "[fd00:2:fd00:1::2]:53".parse().map_err(std::io::Error::other)?;
    capture.udp_exchange(
        phone6,
        resolver6,
        &dns_query(0x1a05, "www.google.com", 28),
        &dns_response(0x1a05, "www.google.com", 28, None, &[v6_server]),
    );
    let phone6 = SocketAddr::new(phone6.ip(), capture.ephemeral_port());
    capture.tcp_session(
        phone6,
        SocketAddr::new(v6_server, 443),
        &[(&tls_client_hello(Some("www.google.com"), &["h2", "http/1.1"]), &tls_application_data(5000))],
    );

    let file = std::fs::File::create(&out)?;
    capture.write_pcap(std::io::BufWriter::new(file)).map_err(std::io::Error::other)?;
    eprintln!("wrote {out} ({} packets)", capture.packets().len());
    Ok(())
}

/// A DNS A query from the phone to its resolver, and the answer.
fn lookup(capture: &mut CaptureBuilder, resolver: SocketAddr, id: u16, name: &str, addresses: &[IpAddr]) {
    let client = SocketAddr::new(PHONE_V4.parse().expect("constant"), capture.ephemeral_port());
    capture.udp_exchange(client, resolver, &dns_query(id, name, 1), &dns_response(id, name, 1, None, addresses));
}
