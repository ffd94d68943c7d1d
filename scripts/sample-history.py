#!/usr/bin/env python3
"""Attributes a history written by `phonehome analyze --db` from samples/phone-session.pcap to apps.

A capture carries no owners, so every flow of the sample lands on "unknown". On a phone the engine names the
app of each flow; this gives the sample's flows the apps of the public cases they reenact (MISSION.md), by
host, and recomputes the per-app tables from the flows, so the Robolectric tests and the screenshots read a
history shaped like the phone's. Usage: sample-history.py HISTORY.sqlite
"""
import sqlite3
import sys

# host (or server address) -> (uid, package); the tests install these packages with these uids.
APPS = {
    "zzhc.vnet.cn": (10057, "com.qualcomm.qti.autoregistration"),
    "sa.api.intl.miui.com": (10088, "com.mi.globalbrowser"),
    "tracking.intl.miui.com": (10088, "com.mi.globalbrowser"),
    "www.gov.cn": (10088, "com.mi.globalbrowser"),
    "www.google.com": (10123, "org.mozilla.firefox"),
    "203.0.113.77": (10145, "com.example.smarthome"),
    "198.51.100.23": (10145, "com.example.smarthome"),
}


def owner(host, dst_ip):
    return APPS.get(host) or APPS.get(dst_ip)


def main(path):
    db = sqlite3.connect(path)
    for table in ("flows", "alerts"):
        for row_id, host, dst_ip in db.execute(f"SELECT id, host, dst_ip FROM {table}").fetchall():
            found = owner(host, dst_ip)
            if found:
                uid, package = found
                db.execute(f"UPDATE {table} SET uid = ?, app = ?, app_key = ? WHERE id = ?", (uid, package, f"uid:{uid}", row_id))
    db.execute("DELETE FROM apps")
    db.execute(
        """INSERT INTO apps (app_key, uid, app, flows, bytes_out, bytes_in, alerts, max_sev_rank, first_us, last_us)
           SELECT f.app_key, f.uid, f.app, COUNT(*), SUM(f.bytes_out), SUM(f.bytes_in),
                  (SELECT COUNT(*) FROM alerts a WHERE a.app_key = f.app_key),
                  MAX(COALESCE(f.sev_rank, -1), COALESCE((SELECT MAX(sev_rank) FROM alerts a WHERE a.app_key = f.app_key), -1)),
                  MIN(f.ts_us), MAX(f.last_us)
           FROM flows f GROUP BY f.app_key"""
    )
    db.execute("DELETE FROM destinations")
    db.execute(
        """INSERT INTO destinations (app_key, destination, first_us, last_us, flows, bytes_out, bytes_in, country, asn, as_org)
           SELECT app_key, COALESCE(host, dst_ip), MIN(ts_us), MAX(last_us), COUNT(*), SUM(bytes_out), SUM(bytes_in),
                  MAX(country), MAX(asn), MAX(as_org)
           FROM flows GROUP BY app_key, COALESCE(host, dst_ip)"""
    )
    db.commit()
    apps = db.execute("SELECT COUNT(*) FROM apps WHERE uid IS NOT NULL").fetchone()[0]
    if apps != len(set(APPS.values())):
        sys.exit(f"{path}: {apps} apps attributed, expected {len(set(APPS.values()))}: the sample or the store changed")


if __name__ == "__main__":
    main(sys.argv[1])
