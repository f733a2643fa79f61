"""The epoch marker: how a Valkey grant store knows it lost its data.

``<prefix>epoch`` holds a random id, written (``seal``) once the denylist agrees with SQL:
at the first start on an empty Valkey, and after each repair. A Valkey that restarts
without persistence, is flushed, or fails over to an empty replica comes back without it.

The service's own client is *guarded*: every new connection reads the marker before its
first command and refuses to serve (a ``ConnectionError``, so ``StorageUnavailable``:
503) while it is missing. A restart drops every connection, so after one no command of
the service runs on the wiped store, not even once, until the recovery has re-seeded the
denylist and sealed it: a revoked session's access token is answered 503, never 200
(OWASP ASVS 5.0 V7.4.1: after logout or termination the session must not be usable;
fail closed rather than open, V16.5). A flush that keeps the connections open is caught
by ``intact``, which the recovery asks every second (``grant_recovery.CHECK_EVERY``): on
a missing marker it drops the guarded connections, so from then on they refuse too. The
recovery itself works through a separate, unguarded client (``ValkeyEpoch(client)``).

A failover keeps the marker but may lose the primary's last writes (replication is
asynchronous): a logout acknowledged just before the crash would be undone, its refresh
token working again on the promoted replica. So ``intact`` also remembers which server
answered (its ``run_id``) and reads as not intact when another one does: the recovery then
re-applies the revocations SQL recorded within the access-token lifetime and ends the
sessions whose grant the failover lost, within a second of the switch (ASVS V7.4.1 again).
A server restarted with its data (AOF) has a new ``run_id`` too: the same repair, harmless.

On a cluster each primary can lose its data alone, so there is a marker on every primary
(``<prefix>epoch:{<n>}``, a tag picked per primary from the current slot map) and a loss
of any one reads as not intact; there is no connection guard and no ``run_id`` there, so
the once-a-second look alone finds a loss. After slots move, a primary may hold no marker
yet: one repair, harmless (it ends only sessions without a grant).
"""

from __future__ import annotations

import secrets
from typing import Any, cast

from valkey.asyncio import Valkey, ValkeyCluster
from valkey.asyncio.connection import AbstractConnection, ConnectCallbackT
from valkey.exceptions import ConnectionError as ValkeyConnectionError

from domain.ports import GrantStoreIntegrity
from infrastructure.grants.valkey.client import ValkeyClient, storage_errors
from infrastructure.grants.valkey.urls import DEFAULT_PREFIX


def epoch_key(prefix: str) -> str:
    return f"{prefix}epoch"


class StoreNotSealed(ValkeyConnectionError):
    """The marker is missing: this Valkey lost its data and is not repaired yet."""


def epoch_guard(prefix: str = DEFAULT_PREFIX) -> ConnectCallbackT:
    """The connection setup of a guarded client (``open_valkey(on_connect=...)``)."""
    key = epoch_key(prefix)

    async def guard(connection: AbstractConnection) -> None:
        await connection.on_connect()
        await connection.send_command("GET", key)
        if await connection.read_response() is None:
            raise StoreNotSealed(f"{key} is missing: grant store lost, recovery pending")

    return guard


class ValkeyEpoch(GrantStoreIntegrity):
    def __init__(
        self,
        client: ValkeyClient,
        prefix: str = DEFAULT_PREFIX,
        guarded: ValkeyClient | None = None,
    ) -> None:
        """``client`` reads and writes the marker (unguarded); ``guarded`` is the service's
        client, whose connections are dropped when the marker is found missing."""
        self._client = client
        self._key = epoch_key(prefix)
        self._guarded = guarded
        self._server: str | None = None  # the run_id that answered the last look
        self._repair_pending = False

    async def intact(self) -> bool:
        with storage_errors():
            found = all([await self._client.get(key) is not None for key in await self._keys()])
            if not found and isinstance(self._guarded, Valkey):  # a cluster has no guard
                await self._guarded.connection_pool.disconnect()
            if await self._server_switched():
                self._repair_pending = True  # until the recovery seals: a failed one retries
        return found and not self._repair_pending

    async def _keys(self) -> list[str]:
        """The marker, or on a cluster one on each primary of the current slot map."""
        client = self._client
        if not isinstance(client, ValkeyCluster):
            return [self._key]
        await client.initialize()  # the slot map, read once and kept up to date
        primaries = {node.name for node in client.get_primaries()}
        keys: dict[str, str] = {}
        for tag in range(100_000):  # a few dozen tries find one for each of a few primaries
            key = f"{self._key}:{{{tag}}}"
            node = client.get_node_from_key(key)
            if node is not None and node.name in primaries:
                keys.setdefault(node.name, key)
            if len(keys) == len(primaries):
                break
        return sorted(keys.values())

    async def _server_switched(self) -> bool:
        """Whether another server answers than at the last look (never at the first)."""
        if not isinstance(self._client, Valkey):
            return False
        info = cast(dict[str, Any], await self._client.info("server"))
        server = str(info["run_id"])
        before, self._server = self._server, server
        return before is not None and before != server

    async def seal(self) -> None:
        """SET NX: a marker another process wrote (after its own repair) stays."""
        with storage_errors():
            for key in await self._keys():
                await self._client.set(key, secrets.token_hex(16), nx=True)
        self._repair_pending = False
