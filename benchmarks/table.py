"""One table for every row: load rows (rps, p50, p99, non-2xx, share of the ceiling) and the
in-process micro rows, each with its target and PASS/FAIL."""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.wrk import Load


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    measure: str
    target: str
    ok: bool
    load: Load | None = None
    ceiling: float | None = None


def load_row(name: str, load: Load, ceiling: float | None, target: str, ok: bool) -> Row:
    return Row(name, f"{load.rps:,.0f} rps", target, ok, load, ceiling)


HEADER = ("row", "measure", "p50 ms", "p99 ms", "non-2xx", "of ceiling", "target", "")


def render(rows: list[Row]) -> str:
    cells = [HEADER]
    for row in rows:
        load = row.load
        cells.append(
            (
                row.name,
                row.measure,
                f"{load.p50_ms:.1f}" if load else "",
                f"{load.p99_ms:.1f}" if load else "",
                str(load.non2xx) if load else "",
                f"{load.rps / row.ceiling:.0%}" if load and row.ceiling else "",
                row.target,
                "PASS" if row.ok else "FAIL",
            )
        )
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADER))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
