#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Steer a live experiment from the database: change a link's rate every
second by writing its policy row. The controller is told by a trigger
(NOTIFY at COMMIT) and pushes the new policy to the host that carries the
link; nothing else is needed.

    rate_steps.py --dsn "dbname=sluice" --topology demo --a r1 --b h2 \
        --rates 10mbit,5mbit,20mbit --seconds 30

Needs python3-psycopg2 (Debian). Each change is one transaction; the row
is addressed by names through sluice_set_policy() (db/migrations).
"""
import argparse
import json
import sys
import time

import psycopg2


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", default="dbname=sluice", help="libpq connection string")
    ap.add_argument("--topology", required=True)
    ap.add_argument("--a", required=True, help="one end of the link")
    ap.add_argument("--b", required=True, help="the other end")
    ap.add_argument("--dir", default="up", choices=["up", "down", "both"],
                    help="direction: up is a -> b")
    ap.add_argument("--rates", default="10mbit,5mbit,20mbit,1mbit",
                    help="comma-separated rates, cycled")
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between changes")
    ap.add_argument("--seconds", type=float, default=10.0, help="how long to run")
    ap.add_argument("--delay", default=None, help="also set this delay, e.g. 10ms")
    args = ap.parse_args()

    rates = [r.strip() for r in args.rates.split(",") if r.strip()]
    conn = psycopg2.connect(args.dsn)
    cur = conn.cursor()
    end = time.monotonic() + args.seconds
    n = 0
    while time.monotonic() < end:
        policy = {"rate": rates[n % len(rates)]}
        if args.delay:
            policy["delay"] = args.delay
        cur.execute("SELECT sluice_set_policy(%s, %s, %s, %s, %s::jsonb)",
                    (args.topology, args.a, args.b, args.dir, json.dumps(policy)))
        conn.commit()
        print(f"{time.time():.3f} {args.topology} {args.a}-{args.b} {args.dir} "
              f"{json.dumps(policy)}", flush=True)
        n += 1
        time.sleep(max(0.0, min(args.interval, end - time.monotonic())))
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
