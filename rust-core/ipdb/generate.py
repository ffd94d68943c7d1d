#!/usr/bin/env python3
"""Regenerate rust-core/ipdb/data/ from the pinned ip-location-db npm packages.

Usage: python3 generate.py [TARBALL_DIR]
Tarballs already in TARBALL_DIR are reused; missing ones are fetched with `npm pack`.
Every tarball is checked against its pinned sha512 integrity before use. Standard library only.
Output is byte-identical for identical inputs (no timestamps, every order is sorted).
It also writes data/SHA256SUMS (the sha256 of every output, `sha256sum -c` format): a test checks that the
committed tables are the ones the generator wrote.
"""
import base64
import bisect
import csv
import hashlib
import heapq
import io
import ipaddress
import os
import subprocess
import sys
import tarfile
import tempfile

# (package, version, npm integrity); bump all three together, then update the consts in src/lib.rs.
COUNTRY_PACKAGE = ("@ip-location-db/geo-whois-asn-country", "2.3.2026061719",
                   "sha512-9MQ3r2q+GDLwW+Mye5duWnHe3n1qB1ZcNUcM9P58CpdW86Gt44AgfIrem6Pcy/tbCHhQ70RJCLngQQyYnaEjbw==")
ASN_PACKAGE = ("@ip-location-db/asn", "2.3.2026061719",
               "sha512-PpqYi7wyEyWwunXBtl+y3Vi403SvNywotWwvmiYCOUtE0SVol/Sf492Ee+eErEznmGapxEQB2SAfrpXuZ9a+vQ==")

# Table layout (must match src/lib.rs), one table per family: keys are whole IPv4 addresses (32 bits)
# or IPv6 /64 prefixes (64 bits). The top BUCKET_BITS of a key select a bucket; rows store the rest.
BUCKET_BITS = 16
V4 = {"key_bits": 32, "addr_bits": 32}
V6 = {"key_bits": 64, "addr_bits": 128}

# Non-global special-purpose blocks (IANA special-purpose registries, RFC 6890 and successors, plus
# multicast and 240/4): the upstream data wrongly geolocates some of them (e.g. 192.168/16 -> AU).
SPECIAL_V4 = ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
              "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
              "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4"]
# ::ffff:0:0/96 and 64:ff9b::/96 embed IPv4 addresses; src/lib.rs looks those up in the IPv4 tables.
SPECIAL_V6 = ["::/96", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64",
              "2001:2::/48", "2001:db8::/32", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10",
              "ff00::/8"]


def is_private_asn(asn):
    """AS 0, AS_TRANS, the documentation and private-use ranges (RFC 6996, RFC 7300, RFC 5398)."""
    return (asn == 0 or asn == 23456 or 64496 <= asn <= 65551
            or 4200000000 <= asn <= 4294967295)


def fetch(package, tarball_dir):
    name, version, integrity = package
    filename = name.lstrip("@").replace("/", "-") + "-" + version + ".tgz"
    path = os.path.join(tarball_dir, filename)
    if not os.path.exists(path):
        subprocess.run(["npm", "pack", "--loglevel=error", f"{name}@{version}", "--pack-destination",
                        tarball_dir], check=True, stdout=subprocess.DEVNULL)
    with open(path, "rb") as f:
        data = f.read()
    actual = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if actual != integrity:
        sys.exit(f"{filename}: integrity {actual} != pinned {integrity}")
    return tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")


def read_csv(tar, member):
    text = tar.extractfile(f"package/{member}").read().decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))


def flatten(rows, special, addr_bits):
    """rows: [(first, last, value)] possibly overlapping -> [(start, value)] covering the whole space.

    Special blocks win, then the narrowest range (the most specific record), then the later row.
    """
    ranges = [(int(n.network_address), int(n.broadcast_address), None, 0)
              for n in map(ipaddress.ip_network, special)]
    ranges += [(first, last, value, 1) for first, last, value in rows]
    starts = {}
    for order, (first, last, value, tier) in enumerate(ranges):
        starts.setdefault(first, []).append((tier, last - first, -order, last, value))
    bounds = sorted({0} | set(starts) | {last + 1 for _, last, _, _ in ranges} - {1 << addr_bits})
    active, segments = [], []
    for bound in bounds:
        for item in starts.get(bound, ()):
            heapq.heappush(active, item)
        while active and active[0][3] < bound:
            heapq.heappop(active)
        value = active[0][4] if active else None
        if not segments or segments[-1][1] != value:
            segments.append((bound, value))
    return segments


def to_keys(segments, family):
    """Address starts -> key starts; an IPv6 /64 takes the value of its first address."""
    shift = family["addr_bits"] - family["key_bits"]
    keyed = {}
    for start, value in segments:
        keyed[-((-start) >> shift)] = value  # round up; the last segment to land on a key wins
    merged = []
    for key in sorted(keyed):
        if key < 1 << family["key_bits"] and (not merged or merged[-1][1] != keyed[key]):
            merged.append((key, keyed[key]))
    return merged


def union(first, second):
    """Two [(start, value)] lists covering the same space -> [(start, (value1, value2))], merged."""
    merged, i, j = [], 0, 0
    for key in sorted({k for k, _ in first} | {k for k, _ in second}):
        while i + 1 < len(first) and first[i + 1][0] <= key:
            i += 1
        while j + 1 < len(second) and second[j + 1][0] <= key:
            j += 1
        value = (first[i][1], second[j][1])
        if not merged or merged[-1][1] != value:
            merged.append((key, value))
    return merged


def encode_table(rows, family, value_bytes):
    """[bucket index: (2^16 + 1) x u32 first row of each bucket][low key bits][values], little-endian.

    A value is the country index (low 8 bits) and the ASN entry index (high 24 bits); 0 = unknown.
    """
    low_bits = family["key_bits"] - BUCKET_BITS
    key_bytes = low_bits // 8
    index, bucket = bytearray(), 0
    for row, (key, _) in enumerate(rows):
        while bucket <= key >> low_bits:
            index += row.to_bytes(4, "little")
            bucket += 1
    while bucket <= 1 << BUCKET_BITS:
        index += len(rows).to_bytes(4, "little")
        bucket += 1
    keys = b"".join((key & ((1 << low_bits) - 1)).to_bytes(key_bytes, "little") for key, _ in rows)
    values = b"".join(value.to_bytes(value_bytes, "little") for _, value in rows)
    return bytes(index) + keys + values


def decode_table(data, family):
    """encode_table's output -> (full row start keys, row values)."""
    low_bits = family["key_bits"] - BUCKET_BITS
    key_bytes, index_entries = low_bits // 8, (1 << BUCKET_BITS) + 1
    index = [int.from_bytes(data[4 * i:4 * i + 4], "little") for i in range(index_entries)]
    keys_at = 4 * index_entries
    values_at = keys_at + index[-1] * key_bytes
    keys = [bucket << low_bits | int.from_bytes(data[keys_at + row * key_bytes:
                                                     keys_at + (row + 1) * key_bytes], "little")
            for bucket in range(index_entries - 1) for row in range(index[bucket], index[bucket + 1])]
    values = [int.from_bytes(data[values_at + 4 * row:values_at + 4 * row + 4], "little")
              for row in range(index[-1])]
    return keys, values


def verify(keys, values, source, family, special):
    """Every source range that nothing overrides must read back its own value at both ends."""
    shift = family["addr_bits"] - family["key_bits"]
    blocks = [(int(n.network_address), int(n.broadcast_address)) for n in map(ipaddress.ip_network, special)]
    source = sorted(source)
    checked, reach = 0, -1
    for i, (first, last, value) in enumerate(source):
        overlapped = reach >= first or (i + 1 < len(source) and source[i + 1][0] <= last)
        reach = max(reach, last)
        special_block = any(lo <= last and first <= hi for lo, hi in blocks)
        coarse = (first | (last + 1)) & ((1 << shift) - 1)  # not whole /64s
        if overlapped or special_block or coarse:
            continue
        for key in (first >> shift, last >> shift):
            found = values[bisect.bisect_right(keys, key) - 1]
            if found != value:
                sys.exit(f"table says {found!r} at {key:#x}, source row {first:#x}-{last:#x} says {value!r}")
        checked += 1
    print(f"verified {checked} of {len(source)} source ranges (the rest overlap, are special or sub-/64)")


def numeric_rows(records):
    return [(int(r[0]), int(r[1]), tuple(r[2:])) for r in records]


def main():
    if len(sys.argv) > 1:
        generate(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory(prefix="ipdb-") as tarball_dir:
            generate(tarball_dir)


def generate(tarball_dir):
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
    country_tar = fetch(COUNTRY_PACKAGE, tarball_dir)
    asn_tar = fetch(ASN_PACKAGE, tarball_dir)
    families = {"v4": (V4, SPECIAL_V4, "ipv4"), "v6": (V6, SPECIAL_V6, "ipv6")}

    country_source, asn_source, country_rows, asn_rows = {}, {}, {}, {}
    for fam, (family, special, csv_tag) in families.items():
        rows = numeric_rows(read_csv(country_tar, f"geo-whois-asn-country-{csv_tag}-num.csv"))
        country_source[fam] = [(a, b, v[0]) for a, b, v in rows]
        country_rows[fam] = to_keys(flatten(country_source[fam], special, family["addr_bits"]), family)
        rows = numeric_rows(read_csv(asn_tar, f"asn-{csv_tag}-num.csv"))
        asn_source[fam] = [(a, b, (int(v[0]), v[1])) for a, b, v in rows if not is_private_asn(int(v[0]))]
        asn_rows[fam] = to_keys(flatten(asn_source[fam], special, family["addr_bits"]), family)

    countries = sorted({v for rows in country_rows.values() for _, v in rows if v is not None})
    assert len(countries) < 256 and all(len(c) == 2 and c.isascii() and c.isupper() for c in countries)
    country_id = {c: i + 1 for i, c in enumerate(countries)}  # 0 = unknown

    entries = sorted({v for rows in asn_rows.values() for _, v in rows if v is not None})
    assert len({asn for asn, _ in entries}) == len(entries), "an ASN with two organisations"
    assert len(entries) < 1 << 24
    entry_id = {e: i + 1 for i, e in enumerate(entries)}  # 0 = unknown
    orgs, org_offset, entry_bytes = bytearray(), {}, bytearray()
    for asn, org in entries:
        name = b"" if org == f"AS{asn}" else org.encode("utf-8")  # upstream placeholder: no name
        assert len(name) < 256
        if name not in org_offset:
            org_offset[name] = len(orgs)
            orgs += name
        entry_bytes += asn.to_bytes(4, "little") + org_offset[name].to_bytes(3, "little")
        entry_bytes += len(name).to_bytes(1, "little")
    assert len(orgs) < 1 << 24

    os.makedirs(out_dir, exist_ok=True)
    outputs = {"countries.txt": "".join(countries).encode(), "asn-orgs.txt": bytes(orgs),
               "asn-entries.bin": bytes(entry_bytes)}
    for fam, (family, _, _) in families.items():
        # One table for both answers: one search per lookup, and fewer rows than two tables' sum.
        rows = [(key, country_id.get(country, 0) | entry_id.get(asn, 0) << 8)
                for key, (country, asn) in union(country_rows[fam], asn_rows[fam])]
        outputs[f"{fam}.bin"] = encode_table(rows, family, 4)
        keys, values = decode_table(outputs[f"{fam}.bin"], family)
        verify(keys, [countries[(v & 0xff) - 1] if v & 0xff else None for v in values],
               country_source[fam], family, SPECIAL_V4 if fam == "v4" else SPECIAL_V6)
        verify(keys, [entries[(v >> 8) - 1] if v >> 8 else None for v in values],
               asn_source[fam], family, SPECIAL_V4 if fam == "v4" else SPECIAL_V6)
    sums = []
    for name, data in sorted(outputs.items()):
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
        digest = hashlib.sha256(data).hexdigest()
        sums.append(f"{digest}  {name}\n")
        print(f"{name:16} {len(data):>9} bytes  sha256 {digest}")
    with open(os.path.join(out_dir, "SHA256SUMS"), "w") as f:
        f.writelines(sums)


if __name__ == "__main__":
    main()
