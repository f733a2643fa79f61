"""Importing a large file of users: streamed, in batches, with a dry run.

Hashes are only checked for their format here (``parse_line``); nothing is verified or
rehashed at import, so 100,000 lines take seconds. Each imported hash is verified, and a
legacy one upgraded to argon2id, at that user's next login.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from itertools import islice

from application.admin.import_lines import ImportReport, parse_line
from domain.entities import NewUser
from domain.ports import Clock, UserAdministration

BATCH = 500
TAKEN = "email already exists, skipped"


class BulkImportUsers:
    def __init__(self, *, administration: UserAdministration, clock: Clock) -> None:
        self._administration = administration
        self._clock = clock

    async def execute(
        self,
        lines: Iterable[str],
        *,
        dry_run: bool = False,
        progress: Callable[[int], None] = lambda lines: None,
    ) -> ImportReport:
        """``imported`` counts what was written, or on a dry run what would be."""
        report = ImportReport()
        seen: set[str] = set()  # emails of this file so far: a repeat is a problem too
        numbered: Iterator[tuple[int, str]] = enumerate(lines, start=1)
        while batch := list(islice(numbered, BATCH)):
            fresh: list[tuple[int, NewUser]] = []
            problems: list[tuple[int, str]] = []
            for number, line in batch:
                if not line.strip():
                    continue
                try:
                    user = parse_line(line, self._clock.now())
                except ValueError as e:
                    problems.append((number, str(e)))
                    continue
                if user.email in seen:
                    problems.append((number, TAKEN))
                    continue
                seen.add(user.email)
                fresh.append((number, user))
            stored = await self._store([user for _, user in fresh], dry_run, self._clock.now())
            report.imported += len(stored)
            problems += [(number, TAKEN) for number, user in fresh if user.email not in stored]
            report.problems += [f"line {number}: {problem}" for number, problem in sorted(problems)]
            progress(len(batch))
        return report

    async def _store(self, users: list[NewUser], dry_run: bool, now: datetime) -> set[str]:
        """The emails written, or on a dry run the emails that would be."""
        if dry_run:
            return {u.email for u in users} - await self._administration.taken(
                [u.email for u in users], now
            )
        return await self._administration.insert_new(users, now)
