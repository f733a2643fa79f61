"""The session denylist a process keeps in memory (``denylist.py``), against real Valkey
servers: a single one and Sentinel's primary. Two stores on clients of their own play two
processes: one revokes, the other answers.

What it may never do is answer "not denied" for a revoked session from memory it cannot
prove true: after a lost subscription, after silence, or from what it learnt before."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
from valkey.asyncio import Valkey

from domain.errors import StorageUnavailable
from infrastructure.grants.valkey import ValkeyGrantStore, open_valkey
from infrastructure.grants.valkey.client import micros
from infrastructure.grants.valkey.denylist import MAX_KNOWN, PushedDenylist, channel_of
from infrastructure.grants.valkey.grant_store import session_keys
from tests.contract.conftest import VALKEYS, ValkeyBackend, adapters
from tests.servers.proxy import CuttableProxy

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
UNTIL = NOW + timedelta(minutes=15)
HEARTBEAT = 0.1
# Ten beats' worth: 0.4 s was once too short for a machine busy with the rest of the suite
# and more (a beat late past it makes the memory untrusted, and the test's denial forgotten).
LIVENESS = 1.0


class NoSessions:
    async def session_ids_of(self, user_id: int) -> list[str]:
        return []


@dataclass
class Processes:
    revoker: ValkeyGrantStore  # the process where the logout happens
    answering: ValkeyGrantStore  # another process, which must refuse the session
    denylist: PushedDenylist  # the answering process's memory
    client: Valkey  # the answering process's own client
    revoker_client: Any
    prefix: str

    def heard(self, session_id: str) -> bool | None:
        """What the answering process's memory says, without reading anything."""
        return self.denylist.answer(session_keys(self.prefix, session_id).denied, micros(NOW))


async def until(condition: Callable[[], bool], seconds: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.01)


async def gets(client: Valkey) -> int:
    stats = cast(dict[str, Any], await client.info("commandstats"))
    return int(stats.get("cmdstat_get", {}).get("calls", 0))


def session() -> str:
    return secrets.token_urlsafe(16)


@asynccontextmanager
async def following(client: Valkey, prefix: str) -> AsyncIterator[PushedDenylist]:
    denylist = PushedDenylist(client, prefix, heartbeat=HEARTBEAT, liveness=LIVENESS)
    stop = asyncio.Event()
    task = asyncio.create_task(denylist.run(stop))
    try:
        await until(lambda: denylist.live)
        yield denylist
    finally:
        stop.set()
        await task


@asynccontextmanager
async def two_processes(backend: ValkeyBackend[Any], client: Valkey) -> AsyncIterator[Processes]:
    prefix = backend.fresh_prefix()
    async with following(client, prefix) as denylist:
        yield Processes(
            revoker=ValkeyGrantStore(backend.client, NoSessions(), prefix),
            answering=ValkeyGrantStore(client, NoSessions(), prefix, denylist=denylist),
            denylist=denylist,
            client=client,
            revoker_client=backend.client,
            prefix=prefix,
        )


@pytest.fixture(params=adapters(["valkey", "valkey-sentinel"]))
def backend(request: pytest.FixtureRequest) -> ValkeyBackend[Any]:
    found: ValkeyBackend[Any] = request.getfixturevalue(VALKEYS[request.param])
    return found


@pytest.fixture
async def processes(backend: ValkeyBackend[Any]) -> AsyncIterator[Processes]:
    client = backend.another_client()
    assert isinstance(client, Valkey)
    async with two_processes(backend, client) as both:
        yield both


async def test_a_revocation_elsewhere_is_heard_and_answered_without_a_read(
    processes: Processes,
) -> None:
    sid = session()
    assert not await processes.answering.is_denied(sid, NOW)  # learnt: not denied

    await processes.revoker.revoke_session(sid, UNTIL)
    await until(lambda: processes.heard(sid) is True)

    before = await gets(processes.client)
    answers = [await processes.answering.is_denied(sid, NOW) for _ in range(50)]
    assert answers == [True] * 50
    assert await gets(processes.client) == before  # from memory: no GET


async def test_a_session_learnt_live_is_answered_from_memory(processes: Processes) -> None:
    sid = session()
    assert not await processes.answering.is_denied(sid, NOW)

    before = await gets(processes.client)
    for _ in range(50):
        assert not await processes.answering.is_denied(sid, NOW)
    assert await gets(processes.client) == before


async def test_a_denial_past_its_end_is_no_denial(processes: Processes) -> None:
    sid = session()
    await processes.revoker.revoke_session(sid, UNTIL)
    await until(lambda: processes.heard(sid) is True)

    assert not await processes.answering.is_denied(sid, UNTIL + timedelta(seconds=1))


def revoke_in_another_process(backend: ValkeyBackend[Any], prefix: str, sid: str) -> None:
    """A logout elsewhere, done and answered while this process's event loop stands still
    (as it does while it serves a request): on a thread, with a loop and client of its own."""

    async def revoke() -> None:
        client = open_valkey(backend.url)
        try:
            await ValkeyGrantStore(client, NoSessions(), prefix).revoke_session(sid, UNTIL)
        finally:
            await client.aclose()

    thread = threading.Thread(target=asyncio.run, args=(revoke(),))
    thread.start()
    thread.join()


async def test_a_denial_that_arrived_unread_is_never_answered_not_denied(
    processes: Processes, backend: ValkeyBackend[Any]
) -> None:
    """The logout has answered and its message waits on this process's socket, unread: the
    event loop was busy serving. A request served before the message is applied must not be
    answered from what memory knew before it (it reads through, and finds the denial)."""
    sid = session()
    assert not await processes.answering.is_denied(sid, NOW)  # learnt: not denied

    revoke_in_another_process(backend, processes.prefix, sid)
    time.sleep(0.05)  # the loop stands still: the message is on the socket by now

    said: list[bool | None] = []
    deadline = asyncio.get_running_loop().time() + 3
    while (answer := processes.heard(sid)) is not True:
        said.append(answer)
        assert asyncio.get_running_loop().time() < deadline, said
        await asyncio.sleep(0)  # one turn of the loop: read, parsed, applied, in steps
    assert False not in said
    assert await processes.answering.is_denied(sid, NOW)


async def test_a_lost_subscription_forgets_and_reads_through_until_it_is_back(
    processes: Processes,
) -> None:
    sid = session()
    assert not await processes.answering.is_denied(sid, NOW)  # learnt: not denied
    await processes.revoker_client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    await until(lambda: not processes.denylist.live)

    await processes.revoker.revoke_session(sid, UNTIL)  # published to nobody

    assert await processes.answering.is_denied(sid, NOW)  # read through, not remembered
    await until(lambda: processes.denylist.live)  # followed again
    assert await processes.answering.is_denied(sid, NOW)
    other = session()
    await processes.revoker.revoke_session(other, UNTIL)
    await until(lambda: processes.heard(other) is True)


async def test_a_silent_channel_is_not_trusted(valkey_backend: ValkeyBackend[Valkey]) -> None:
    """A half-open connection delivers nothing and says nothing: past ``LIVENESS`` of
    silence the answers read through (here: cannot tell, 503), never a stale "not denied"."""
    server = urlsplit(valkey_backend.url)
    with CuttableProxy(str(server.hostname), int(server.port or 6379)) as proxy:
        client = open_valkey(f"valkey://127.0.0.1:{proxy.port}")
        assert isinstance(client, Valkey)
        try:
            async with two_processes(valkey_backend, client) as both:
                sid = session()
                assert not await both.answering.is_denied(sid, NOW)
                proxy.freeze()
                await both.revoker.revoke_session(sid, UNTIL)
                await asyncio.sleep(LIVENESS + 0.1)

                assert not both.denylist.live
                with pytest.raises(StorageUnavailable):
                    await both.answering.is_denied(sid, NOW)
                proxy.restore()
                await until(lambda: both.denylist.live, 10)
                assert await both.answering.is_denied(sid, NOW)
        finally:
            proxy.restore()
            await client.aclose()


async def test_an_answer_read_before_the_subscription_is_never_remembered(
    valkey_backend: ValkeyBackend[Valkey],
) -> None:
    prefix = valkey_backend.fresh_prefix()
    client = valkey_backend.another_client()
    assert isinstance(client, Valkey)
    denylist = PushedDenylist(client, prefix)  # not following: no subscription yet
    store = ValkeyGrantStore(client, NoSessions(), prefix, denylist=denylist)
    revoker = ValkeyGrantStore(valkey_backend.client, NoSessions(), prefix)
    sid = session()

    assert not await store.is_denied(sid, NOW)
    await revoker.revoke_session(sid, UNTIL)

    assert await store.is_denied(sid, NOW)


class WritesElsewhere:
    """A process whose writes go to another server than the one its subscription is on (a
    split after a failover): its own publishes never reach its subscription."""

    def __init__(self, client: Valkey) -> None:
        self._client = client

    def pubsub(self) -> Any:
        return self._client.pubsub()

    async def publish(self, channel: str, message: bytes) -> int:
        return int(await self._client.publish(f"{channel}:elsewhere", message))


async def test_only_its_own_heartbeat_proves_the_channel(
    valkey_backend: ValkeyBackend[Valkey],
) -> None:
    """Another process's beats (and denials) may come from a primary this process no longer
    writes to: however many arrive, without its own the memory is not trusted."""
    prefix = valkey_backend.fresh_prefix()
    client = valkey_backend.another_client()
    assert isinstance(client, Valkey)
    denylist = PushedDenylist(
        cast(Valkey, WritesElsewhere(client)), prefix, heartbeat=HEARTBEAT, liveness=LIVENESS
    )
    stop = asyncio.Event()
    following_task = asyncio.create_task(denylist.run(stop))

    async def another_process_beating() -> None:
        while not stop.is_set():
            await valkey_backend.client.publish(denylist.channel, b"0123456789abcdef")
            await valkey_backend.client.publish(denylist.channel, b"")
            await asyncio.sleep(HEARTBEAT / 4)

    beating = asyncio.create_task(another_process_beating())
    try:
        for _ in range(int(3 * LIVENESS / 0.01)):
            assert not denylist.live
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await asyncio.gather(following_task, beating)
        await client.aclose()


async def test_a_read_learnt_as_the_memory_fills_never_undoes_a_denial_heard_meanwhile(
    valkey_backend: ValkeyBackend[Valkey],
) -> None:
    """A read finds the session not denied; before its request applies it, the logout lands
    and is heard. The memory is full (``MAX_KNOWN``, as in any busy process), and forgetting
    it all must not leave that older read standing alone as "not denied"."""
    prefix = valkey_backend.fresh_prefix()
    client = valkey_backend.another_client()
    assert isinstance(client, Valkey)
    async with following(client, prefix) as denylist:
        answering = ValkeyGrantStore(client, NoSessions(), prefix, denylist=denylist)
        revoker = ValkeyGrantStore(valkey_backend.client, NoSessions(), prefix)
        sid = session()
        key = session_keys(prefix, sid).denied
        for n in range(MAX_KNOWN - 1):  # a busy process knows this many other sessions
            denylist.learn(f"{prefix}other{n}", None, denylist.ticket())
        read, resume = asyncio.Event(), asyncio.Event()
        real_get = client.get

        async def read_then_wait(name: Any) -> Any:
            found = await real_get(name)
            read.set()
            await resume.wait()
            return found

        client.get = read_then_wait  # type: ignore[method-assign]
        asking = asyncio.create_task(answering.is_denied(sid, NOW))
        await read.wait()
        client.get = real_get  # type: ignore[method-assign]
        await revoker.revoke_session(sid, UNTIL)
        await until(lambda: denylist.answer(key, micros(NOW)) is True)
        resume.set()
        assert await asking is False  # read before the logout: right for that request

        assert [await answering.is_denied(sid, NOW) for _ in range(20)] == [True] * 20


async def test_beats_go_where_only_their_process_listens_and_denials_to_all(
    valkey_backend: ValkeyBackend[Valkey],
) -> None:
    """Another process's heartbeat on the shared channel would sit unread now and then when
    a request is served, and send it reading through: each beat has a channel of its own."""
    prefix = valkey_backend.fresh_prefix()
    one, other = valkey_backend.another_client(), valkey_backend.another_client()
    assert isinstance(one, Valkey)
    assert isinstance(other, Valkey)
    listener = valkey_backend.client.pubsub()
    await listener.subscribe(channel_of(prefix))
    async with following(one, prefix), following(other, prefix):
        await asyncio.sleep(3 * HEARTBEAT)
        await ValkeyGrantStore(one, NoSessions(), prefix).revoke_session(session(), UNTIL)
        heard: list[bytes] = []
        for _ in range(20):  # a second of listening, beats every 0.1 s
            message = await listener.get_message(timeout=0.05)
            if message is not None and message["type"] == "message":
                heard.append(bytes(message["data"]))
    await listener.aclose()

    assert len(heard) == 1  # the denial, and no beat
    assert b" " in heard[0]
