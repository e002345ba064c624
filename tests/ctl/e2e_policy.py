# SPDX-License-Identifier: GPL-2.0-or-later
"""COMMIT of a policy row -> the rate in the kernel of a real sluiced host.

Usage: e2e_policy.py DSN TOPOLOGY NETNS LIMIT_MS RATE_MBIT...

For each rate (Mbit/s, whole numbers, each different from the one before),
writes the policy of link r1-h2, direction up, as a user's script would
(psycopg2, sluice_set_policy, COMMIT), then polls `tc -n NETNS qdisc show`
until a TBF with that rate is there. The clock starts right before
conn.commit() and stops at the first `tc` output that shows the rate, so
the figure includes the NOTIFY, the controller, the WebSocket, sluiced's
netlink change and up to one `tc` run (a few ms) of polling. Prints every
latency and the median and max; exits 1 if a rate never shows up within
3 s or the max is over LIMIT_MS. The last rate stays in place.
"""
import json
import subprocess
import sys
import time

import psycopg2

dsn, topo, ns, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
rates = [int(r) for r in sys.argv[5:]]


def tbf_rates():
    out = subprocess.run(["tc", "-n", ns, "qdisc", "show"], capture_output=True,
                         text=True, check=False).stdout
    return [line for line in out.splitlines() if line.startswith("qdisc tbf")]


conn = psycopg2.connect(dsn)
cur = conn.cursor()
lat = []
for mbit in rates:
    want = f" rate {mbit}Mbit "
    cur.execute("SELECT sluice_set_policy(%s, 'r1', 'h2', 'up', %s::jsonb)",
                (topo, json.dumps({"rate": f"{mbit}mbit"})))
    t0 = time.monotonic()
    conn.commit()
    seen = None
    while time.monotonic() - t0 < 3:
        if any(want in line for line in tbf_rates()):
            seen = time.monotonic()
            break
    if seen is None:
        print(f"rate {mbit}mbit: not in the kernel after 3 s; tbf now: {tbf_rates()}")
        sys.exit(1)
    lat.append((seen - t0) * 1000)
    print(f"rate {mbit}mbit: COMMIT -> TBF {lat[-1]:.1f} ms")
    time.sleep(0.1)
s = sorted(lat)
print(f"COMMIT -> kernel, {len(s)} changes: median {s[len(s) // 2]:.1f} ms, "
      f"max {s[-1]:.1f} ms (limit {limit:.0f} ms)")
print("tbf:", tbf_rates())
sys.exit(0 if s[-1] < limit else 1)
