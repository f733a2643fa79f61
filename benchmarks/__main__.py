"""Measure the costs that matter for an auth service and check them against targets.

    uv run just bench                    # everything (a few minutes)
    uv run just bench --quick            # shorter runs, 10⁵ instead of 10⁶ grants
    uv run just bench --only refresh     # some rows: micro, me, refresh, login, scale

Real servers (granian, 2 workers) for both deployments and the framework ceiling, driven by
wrk; every target is a ratio within this one run or an absolute from issue 13.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from benchmarks import capacity, micro, signals, wrk
from benchmarks.deployments import Plan, measure_deployments
from benchmarks.servers import ceiling
from benchmarks.table import Row, load_row, render

PARTS = ("micro", "me", "refresh", "login", "scale", "capacity", "signals")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="just bench")
    parser.add_argument("--quick", action="store_true", help="short runs, 10⁵ grants")
    parser.add_argument("--only", action="append", choices=PARTS, help="some rows only")
    parser.add_argument("--seconds", type=float, help="seconds per load run (default 8)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    for noisy in ("httpx", "authgate", "mail.log"):  # mail.log: aiosmtpd, the loopback SMTP
        logging.getLogger(noisy).setLevel(logging.WARNING)
    args = parse(argv)
    parts = set(args.only or PARTS)
    plan = Plan(
        parts=parts,
        seconds=args.seconds or (3.0 if args.quick else 8.0),
        many_grants=100_000 if args.quick else 1_000_000,
    )
    print(f"load: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} cores", file=sys.stderr)
    rows: list[Row] = []
    if parts - {"micro", "capacity", "signals"}:
        if not wrk.available():
            print(wrk.HOW_TO_GET_WRK, file=sys.stderr)
            return 2
        with ceiling() as url:
            top = wrk.get(url, "/ping", plan.seconds)
        rows.append(
            load_row(
                "ceiling: Litestar+msgspec GET", top, top.rps, "> 25,000 rps", top.rps > 25_000
            )
        )
        rows += measure_deployments(plan, top.rps)
    if "micro" in parts:
        rows += asyncio.run(micro.rows(quick=args.quick))
    if "signals" in parts:
        rows += [
            Row(name, f"{value:,.1f} {unit}", signals.TARGETS[unit], ok)
            for name, value, unit, ok in signals.rows(quick=args.quick)
        ]
    if "capacity" in parts:
        rows += capacity.rows(quick=args.quick)
    print(render(rows))
    print(f"load after: {os.getloadavg()[0]:.2f} (1 min)", file=sys.stderr)
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
