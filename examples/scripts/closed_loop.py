#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A closed loop over a live experiment: read a link's measured throughput
from the metrics the hosts report (table link_metrics), and react by
writing the link's policy (table policies, through sluice_set_policy()).

The controller used here is a small AIMD governor: while the measured
throughput fills the link's current rate above --high of it, the rate is
raised by --step (additive increase, up to --max); when it falls below
--low, the rate is halved (multiplicative decrease, down to --min). Swap
decide() for your own controller.

    closed_loop.py --dsn "dbname=sluice" --topology demo --a r1 --b h2 \
        --start 10000000 --seconds 60

Needs python3-psycopg2 (Debian).
"""
import argparse
import json
import sys
import time

import psycopg2

QUERY = """
SELECT extract(epoch FROM ts), bytes FROM link_metrics
WHERE topology = %s AND a = %s AND b = %s AND dir = %s
ORDER BY ts DESC LIMIT 2
"""


def measured_bps(cur, args):
    """Throughput over the last two reports, or None if there are not two."""
    cur.execute(QUERY, (args.topology, args.a, args.b, args.dir))
    rows = cur.fetchall()
    if len(rows) < 2 or rows[0][0] <= rows[1][0]:
        return None
    (t1, b1), (t0, b0) = rows
    return max(0.0, (b1 - b0) * 8 / float(t1 - t0))


def decide(rate, bps, args):
    """AIMD: the new rate in bit/s given the current rate and the measure."""
    if bps >= args.high * rate:
        return min(args.max, rate + args.step)
    if bps < args.low * rate:
        return max(args.min, rate // 2)
    return rate


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", default="dbname=sluice")
    ap.add_argument("--topology", required=True)
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--dir", default="up", choices=["up", "down"])
    ap.add_argument("--start", type=int, default=10_000_000, help="initial rate, bit/s")
    ap.add_argument("--min", type=int, default=1_000_000)
    ap.add_argument("--max", type=int, default=1_000_000_000)
    ap.add_argument("--step", type=int, default=1_000_000, help="additive increase, bit/s")
    ap.add_argument("--high", type=float, default=0.8)
    ap.add_argument("--low", type=float, default=0.2)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()

    conn = psycopg2.connect(args.dsn)
    conn.autocommit = False
    cur = conn.cursor()
    rate = args.start
    changes = 0

    def write(r):
        cur.execute("SELECT sluice_set_policy(%s, %s, %s, %s, %s::jsonb)",
                    (args.topology, args.a, args.b, args.dir,
                     json.dumps({"rate": f"{r}bit"})))
        conn.commit()

    write(rate)
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        time.sleep(args.interval)
        bps = measured_bps(cur, args)
        conn.commit()  # end the read transaction: see new reports next time
        if bps is None:
            print("waiting for two reports", flush=True)
            continue
        new = decide(rate, bps, args)
        print(f"{time.time():.3f} measured {bps / 1e6:.3f} Mbit/s of {rate / 1e6:.3f}"
              f" -> {new / 1e6:.3f} Mbit/s", flush=True)
        if new != rate:
            rate = new
            write(rate)
            changes += 1
    conn.close()
    print(f"{changes} changes", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
