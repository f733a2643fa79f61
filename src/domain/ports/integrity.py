"""Whether the grant store still holds what it was given.

A grant store kept apart from the SQL database (Valkey, process memory) can lose its data
on its own: a restart without persistence, a flush, a failover to an empty replica. The
denylist goes with it, and access tokens of sessions revoked minutes earlier would pass
again. The store is *sealed* once its denylist agrees with SQL; it reads as not intact
from the moment it loses its data until the recovery (``application.grant_recovery``)
has re-seeded the denylist and sealed it again.
"""

from __future__ import annotations

from typing import Protocol


class GrantStoreIntegrity(Protocol):
    async def intact(self) -> bool:
        """False when the store lost its data since it was last sealed (or was never
        sealed), or may have lost its last writes (another server answers since the last
        look: a failover). A store that shares the SQL database is always intact."""
        ...

    async def seal(self) -> None:
        """Mark the store intact: called once the denylist agrees with SQL again."""
        ...
