# SPDX-License-Identifier: GPL-2.0-or-later
"""Time from COMMIT of a policy row to the host applying it.

Usage: policy_latency.py DSN SIM_OUTPUT N LIMIT_MS

Writes N policy rows (through sluice_set_policy, as a user's script would,
with psycopg2), each with a unique rate, and for each one waits for the
simulated host's line "<ns> link_policy <id> <json>" carrying that rate.
The clock starts right before conn.commit() (the COMMIT that fires the
NOTIFY) and stops at the host's CLOCK_REALTIME stamp of the command's
arrival. Prints median, p95 and max; exits 1 if any is missing or the max
is over LIMIT_MS.
"""
import json
import sys
import time

import psycopg2

dsn, out, n, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
conn = psycopg2.connect(dsn)
cur = conn.cursor()
lat = []
pos = 0
for i in range(n):
    rate = f"{1000 + i}kbit"
    cur.execute("SELECT sluice_set_policy('demo', 'r1', 'h2', 'up', %s::jsonb)",
                (json.dumps({"rate": rate}),))
    t0 = time.time_ns()
    conn.commit()
    seen = None
    end = time.monotonic() + 3
    while seen is None and time.monotonic() < end:
        with open(out, "rb") as f:
            f.seek(pos)
            data = f.read()
        done = data.rfind(b"\n") + 1  # whole lines only
        pos += done
        for line in data[:done].decode().splitlines():
            parts = line.split(" ", 3)
            if len(parts) == 4 and parts[1] == "link_policy":
                m = json.loads(parts[3])
                if (m.get("policy") or {}).get("rate") == rate:
                    seen = int(parts[0])
        if seen is None:
            time.sleep(0.002)
    if seen is None:
        print(f"policy {rate}: never reached the host")
        sys.exit(1)
    lat.append((seen - t0) / 1e6)
    time.sleep(0.05)
lat.sort()
med = lat[len(lat) // 2]
p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))]
print(f"COMMIT -> host applied, {n} changes: median {med:.2f} ms, p95 {p95:.2f} ms, "
      f"max {lat[-1]:.2f} ms (limit {limit:.0f} ms)")
sys.exit(0 if lat[-1] < limit else 1)
