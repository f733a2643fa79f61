"""``authgate import-users FILE [--dry-run]``: streamed, in batches, with progress."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TimeRemainingColumn

from infrastructure.config import Settings
from interfaces.bootstrap import open_service
from interfaces.cli.errors import readable_file, require_migrated

SHOWN_PROBLEMS = 20  # on stderr; the summary counts them all


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    importer = commands.add_parser(
        "import-users",
        help="import users with existing bcrypt or argon2 hashes from a JSON Lines file",
    )
    importer.add_argument(
        "file", type=Path, help='one {"email", "password_hash", "name"?, "role"?} a line'
    )
    importer.add_argument(
        "--dry-run", action="store_true", help="check every line and report; write nothing"
    )


def command(args: argparse.Namespace) -> Callable[[Settings], Awaitable[int]]:
    async def run(settings: Settings) -> int:
        path = readable_file(args.file)
        await require_migrated(settings)
        with path.open("rb") as handle, _progress() as progress:
            task = progress.add_task("importing", total=path.stat().st_size)
            async with open_service(settings) as service:
                report = await service.cases.import_users.execute(
                    _lines(handle, progress, task), dry_run=args.dry_run
                )
        for problem in report.problems[:SHOWN_PROBLEMS]:
            print(problem, file=sys.stderr)
        if len(report.problems) > SHOWN_PROBLEMS:
            print(f"… and {len(report.problems) - SHOWN_PROBLEMS} more", file=sys.stderr)
        verb = "would import" if args.dry_run else "imported"
        dry = " (dry run: nothing written)" if args.dry_run else ""
        print(f"{verb} {report.imported} users, {len(report.problems)} lines skipped{dry}")
        return 0 if not report.problems else 1

    return run


def _lines(handle: BinaryIO, progress: Progress, task: TaskID) -> Iterator[str]:
    for raw in handle:  # one line at a time: the file is never read whole
        progress.advance(task, len(raw))
        yield raw.decode("utf-8", "replace")  # a broken byte fails that line's checks


def _progress() -> Progress:
    console = Console(stderr=True)
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,  # a log file gets the summary only
    )
