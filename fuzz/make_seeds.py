#!/usr/bin/env python3
"""Builds the fuzz targets' seed corpora (fuzz/seeds/TARGET/) from the project's test captures.

Usage: python3 fuzz/make_seeds.py [CORPUS_DIR]   (CORPUS_DIR: the shared test corpus, default ../shared/corpus)

Seeds are small, real inputs: the sample capture and a few nDPI captures cut to their first packets, the
transport payloads inside them (DNS, HTTP, TLS, QUIC), the same packets wrapped in every link layer and
tunnel the decoder knows, this machine's /proc/net tables, the heads of the corpus lists and the sample
identifiers. Deterministic for the same inputs; the output is committed.
"""
import hashlib
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "corpus")
OUT = os.path.join(ROOT, "fuzz", "seeds")
NDPI = ["dns.pcap", "quic-24.pcap", "gquic.pcap", "443-curl.pcap", "1kxun.pcap", "malformed_dns.pcap",
        "tls_ech.pcapng", "dns-google-nsid.pcapng", "tls_1.3_unidirectional_client.pcapng"]
# Link-type selectors of the `packet` target (index into its LINKS table).
SELECT = {1: 0, 101: 1, 113: 4, 239: 10}


def save(target, data, limit=64):
    directory = os.path.join(OUT, target)
    os.makedirs(directory, exist_ok=True)
    if len(os.listdir(directory)) >= limit:
        return
    with open(os.path.join(directory, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def read_pcap(data):
    """(link type, [(ts_sec, ts_usec, frame)]) of a classic pcap or a simple little-endian pcapng."""
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        return read_pcapng(data)
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    link = struct.unpack(endian + "I", data[20:24])[0] & 0xFFFF
    frames, at = [], 24
    while at + 16 <= len(data):
        sec, usec, caplen, _ = struct.unpack(endian + "IIII", data[at:at + 16])
        frames.append((sec, usec, data[at + 16:at + 16 + caplen]))
        at += 16 + caplen
    return link, frames


def read_pcapng(data):
    link, frames, at = None, [], 0
    while at + 12 <= len(data):
        block_type, length = struct.unpack("<II", data[at:at + 8])
        if length < 12:
            break
        body = data[at + 8:at + length - 4]
        if block_type == 1 and link is None:
            link = struct.unpack("<H", body[:2])[0]
        elif block_type == 6:
            _, high, low, caplen, _ = struct.unpack("<IIIII", body[:20])
            ts = (high << 32) | low
            frames.append((ts // 1_000_000, ts % 1_000_000, body[20:20 + caplen]))
        at += length
    return link, frames


def write_pcap(link, frames):
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, link)
    for sec, usec, frame in frames:
        out += struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame
    return out


def ip_of(link, frame):
    """The IP packet inside a frame of the link types the corpus uses, or None."""
    if link == 1:
        at, ether_type = 14, struct.unpack(">H", frame[12:14])[0] if len(frame) >= 14 else 0
        while ether_type == 0x8100 and len(frame) >= at + 4:
            ether_type, at = struct.unpack(">H", frame[at + 2:at + 4])[0], at + 4
        return frame[at:] if ether_type in (0x0800, 0x86DD) else None
    if link in (101, 12, 14):
        return frame
    if link == 113:
        return frame[16:]
    return None


def transport(ip):
    """(protocol, src port, dst port, payload) of an unfragmented IPv4/IPv6 TCP or UDP packet."""
    if not ip:
        return None
    if ip[0] >> 4 == 4:
        header, protocol = (ip[0] & 0x0F) * 4, ip[9]
        if struct.unpack(">H", ip[6:8])[0] & 0x3FFF:
            return None
        rest = ip[header:struct.unpack(">H", ip[2:4])[0]]
    elif ip[0] >> 4 == 6:
        protocol, rest = ip[6], ip[40:]
    else:
        return None
    if protocol == 17 and len(rest) >= 8:
        src, dst = struct.unpack(">HH", rest[:4])
        return 17, src, dst, rest[8:]
    if protocol == 6 and len(rest) >= 20:
        src, dst = struct.unpack(">HH", rest[:4])
        return 6, src, dst, rest[(rest[12] >> 4) * 4:]
    return None


def udp4(port, payload):
    """An IPv4/UDP packet 198.51.100.7:40001 → 203.0.113.9:port carrying payload (checksums zero)."""
    udp = struct.pack(">HHHH", 40001, port, 8 + len(payload), 0) + payload
    header = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                         bytes([198, 51, 100, 7]), bytes([203, 0, 113, 9]))
    return header + udp


def nflog(ip):
    family = 10 if ip[0] >> 4 == 6 else 2
    frame = bytes([family, 0]) + struct.pack(">H", 5)
    for tlv_type, value in ((1, b"\x08\x00\x03\x00"), (11, struct.pack(">I", 10123)), (9, ip)):
        tlv = struct.pack("<HH", 4 + len(value), tlv_type) + value
        frame += tlv + b"\0" * (-len(tlv) % 4)
    return frame


def tunnels(ip):
    """The packet inside every tunnel the decoder opens, as bare IPv4 packets."""
    v6 = ip[0] >> 4 == 6
    proto = struct.pack(">H", 0x86DD if v6 else 0x0800)
    yield udp4(4754, b"\x20\x00" + proto + b"\0\0\0\x07" + ip)  # GRE in UDP
    yield udp4(5072, bytes([0x41, 0x52, 0x11, 41 if v6 else 4]) + b"\0" * 4 + b"\x20" * 16 + b"\x5a" * 20 + ip)  # AYIYA
    yield udp4(4789, b"\x08\0\0\0\0\0\x01\0" + b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02" + proto + ip)  # VXLAN
    yield udp4(2152, b"\x30\xff" + struct.pack(">H", len(ip)) + b"\0\0\0\x01" + ip)  # GTP-U
    if v6:
        yield udp4(3544, b"\0\0\x63\x5e" + bytes(b ^ 0xFF for b in (198, 51, 100, 7)) + ip)  # Teredo


def main():
    captures = [("phone-session.pcap", open(os.path.join(ROOT, "samples", "phone-session.pcap"), "rb").read())]
    for name in NDPI:
        path = os.path.join(CORPUS, "ndpi", name)
        if os.path.exists(path):
            captures.append((name, open(path, "rb").read()))
    wrapped = []
    for name, data in captures:
        link, frames = read_pcap(data)
        head = frames[:24]
        save("capture", data if len(data) < 20_000 else write_pcap(link, head))
        quic_flows = {}
        for sec, usec, frame in head if len(data) >= 20_000 else frames:
            ip = ip_of(link, frame)
            if link in SELECT and len(frame) < 4000:
                save("packet", struct.pack(">HB", len(frame), SELECT[link]) + frame)
            facts = transport(ip)
            if facts is None:
                continue
            protocol, src, dst, payload = facts
            if len(wrapped) < 12 and payload:
                wrapped.append((sec, usec, ip))
            if not payload:
                continue
            if 53 in (src, dst) or 5353 in (src, dst):
                save("dns", payload[2:] if protocol == 6 else payload)
                if protocol == 6:
                    save("dns", payload)
            elif protocol == 6 and (payload[:4] in (b"GET ", b"POST", b"HEAD", b"HTTP", b"PUT ", b"CONN")):
                save("http", payload[:4096])
            elif protocol == 6 and payload[:2] == b"\x16\x03":
                save("tls", payload[:4096])
            elif protocol == 17 and 443 in (src, dst) and payload[0] & 0x80:
                flow = quic_flows.setdefault((src, dst), b"")
                if len(flow) < 6000 and dst == 443:
                    quic_flows[(src, dst)] = flow + struct.pack(">H", len(payload)) + payload
        for datagrams in quic_flows.values():
            if datagrams:
                save("quic", datagrams)
    # Every link layer and tunnel around real packets.
    for sec, usec, ip in wrapped:
        save("packet", struct.pack(">HB", len(ip) + 40, SELECT[239]) + nflog(ip), limit=96)
        for outer in tunnels(ip):
            save("packet", struct.pack(">HB", len(outer), SELECT[101]) + outer, limit=96)
    save("capture", write_pcap(239, [(s, u, nflog(ip)) for s, u, ip in wrapped]), limit=96)
    save("capture", write_pcap(101, [(s, u, t) for s, u, ip in wrapped for t in tunnels(ip)]), limit=96)
    for table in ("tcp", "tcp6", "udp", "udp6"):
        path = "/proc/net/" + table
        if os.path.exists(path):
            save("procnet", "".join(open(path).readlines()[:12]).encode())
    lists = os.path.join(CORPUS, "lists")
    hagezi = os.path.join(lists, "hagezi-light-2022.txt")
    if os.path.exists(hagezi):
        save("lists", b"".join(open(hagezi, "rb").readlines()[:120]))
    save("lists", b"# mixed\n127.0.0.1 localhost\n0.0.0.0 ads.example\n||track.example^\n@@||ok.example^\n"
                  b"*.metrics.example\nplain.example\n192.0.2.0/24\n2001:db8::/32\nexample.com##.banner\n"
                  b"/ads[0-9]+/\n||cdn.example^$third-party\n||x.example/path\n")
    save("lists", b'{"trackers": {"t": {"name": "T", "companyId": "c"}}, "trackerDomains": {"t.example": "t"},'
                  b' "companies": {"c": {"name": "C"}}}')
    save("identifiers", open(os.path.join(ROOT, "samples", "ids.toml"), "rb").read())
    save("identifiers", b'imei = ["356938035643809", 490154203237518]\nmac = "3c:5a:b4:12:9e:7f"\n'
                        b'location = "48.85837,2.29448"\nphone = "+33612345678"\n[custom]\nuser = "u-7734-kilo"\n')


if __name__ == "__main__":
    main()
