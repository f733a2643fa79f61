"""Every contract fixture, in this one file: one fixture per port, parametrised over adapter
names, and the SQL databases, folders and files the SQL-only suites run on.

To add an adapter, append its name to the list and add one ``if name == ...`` branch.
Adapters that need a server are marked ``backends`` and ask for it lazily, so the memory
tests never start one. Tests are typed against the port, never the adapter.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest
from valkey.asyncio import Valkey

from domain.entities import NewUser, RefreshGrant, Session
from domain.ports import (
    GrantStoreIntegrity,
    OneTimeStore,
    PasskeyAccounts,
    Passkeys,
    RateLimiter,
    RecoveryCodes,
    RefreshGrantStore,
    SessionRepository,
    TotpCredentials,
    UserRepository,
)
from infrastructure.grants.memory import MemoryGrantStore, MemoryOneTimeStore, MemoryRateLimiter
from infrastructure.grants.sql import SqlGrantStore, SqlOneTimeStore, SqlRateLimiter
from infrastructure.grants.valkey import (
    ValkeyClient,
    ValkeyGrantStore,
    ValkeyOneTimeStore,
    ValkeyRateLimiter,
    open_valkey,
    parse_valkey_url,
)
from infrastructure.grants.valkey.epoch import ValkeyEpoch
from infrastructure.persistence.database import Database
from infrastructure.persistence.migrations import migrate
from infrastructure.persistence.passkeys import SqlPasskeyAccounts, SqlPasskeys
from infrastructure.persistence.postgres import PostgresDatabase
from infrastructure.persistence.second_factor import SqlRecoveryCodes, SqlTotpCredentials
from infrastructure.persistence.sessions import SqlSessionIdsOfUser, SqlSessionRepository
from infrastructure.persistence.sqlite import SqliteDatabase
from infrastructure.persistence.users import SqlUserRepository
from infrastructure.persistence.write_behind import WriteBehindSessions
from infrastructure.system import SystemClock
from tests.backends import run_token
from tests.backends.postgres import admin_execute, truncate
from tests.backends.valkey_sentinel import sentinel_deployment
from tests.fakes.repositories import MemorySessionRepository, MemoryUserRepository
from tests.fakes.second_factor import (
    MemoryPasskeyAccounts,
    MemoryPasskeys,
    MemoryRecoveryCodes,
    MemoryTotpCredentials,
)

# Adapter name -> the session fixture of its Valkey clients.
VALKEYS = {
    "valkey": "valkey_backend",
    "valkey-cluster": "valkey_cluster_backend",
    "valkey-sentinel": "valkey_sentinel_backend",
}
GRANT_STORES = ["memory", "sqlite", "postgres", *VALKEYS]
KEYED_STORES = ["memory", "sqlite", "postgres", *VALKEYS]
NEEDS_A_SERVER = {"postgres", *VALKEYS}


def adapters(names: list[str]) -> list[Any]:
    return [
        pytest.param(name, marks=pytest.mark.backends) if name in NEEDS_A_SERVER else name
        for name in names
    ]


Client = TypeVar("Client", bound=ValkeyClient)


@dataclass
class ValkeyBackend(Generic[Client]):
    url: str  # for the client, without ?prefix=
    run_prefix: str
    client: Client  # shared by the tests
    others: list[ValkeyClient] = field(default_factory=list)

    def another_client(self) -> ValkeyClient:
        """A client with its own connection pool, as another process would have."""
        self.others.append(open_valkey(self.url))
        return self.others[-1]

    def fresh_prefix(self) -> str:
        """A namespace of one test, inside this run's prefix (so the run's cleanup gets it)."""
        return f"{self.run_prefix}{run_token()}:"

    async def close(self) -> None:
        for client in [self.client, *self.others]:
            await client.aclose()


@pytest.fixture(scope="session")
async def valkey_sentinel_backend(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[ValkeyBackend[ValkeyClient]]:
    """The primary of a Sentinel deployment (``tests/backends/valkey_sentinel.py``), found
    through its sentinels as the service finds it; started once, for the whole run."""
    with sentinel_deployment(tmp_path_factory.mktemp("sentinel")) as deployment:
        client_url, prefix = parse_valkey_url(deployment.url(f"authgate-test-{run_token()}:"))
        backend: ValkeyBackend[ValkeyClient] = ValkeyBackend(
            client_url, prefix, open_valkey(client_url)
        )
        try:
            yield backend
        finally:
            await backend.close()


@pytest.fixture(scope="session")
async def valkey_backend(valkey_server_url: str) -> AsyncIterator[ValkeyBackend[Valkey]]:
    """Clients on the run's server (``tests/conftest.py``), closed at the end of the run."""
    client_url, prefix = parse_valkey_url(valkey_server_url)
    client = open_valkey(client_url)
    assert isinstance(client, Valkey)  # a single server's URL
    backend = ValkeyBackend(client_url, prefix, client)
    try:
        yield backend
    finally:
        await backend.close()


@pytest.fixture(scope="session")
async def valkey_cluster_backend(
    valkey_cluster_url: str,
) -> AsyncIterator[ValkeyBackend[ValkeyClient]]:
    """Clients on the run's three-primary cluster, built from its URL like the ones above."""
    client_url, prefix = parse_valkey_url(valkey_cluster_url)
    backend: ValkeyBackend[ValkeyClient] = ValkeyBackend(
        client_url, prefix, open_valkey(client_url)
    )
    try:
        yield backend
    finally:
        await backend.close()


def _valkey(request: pytest.FixtureRequest, name: str) -> ValkeyBackend[ValkeyClient]:
    backend: ValkeyBackend[ValkeyClient] = request.getfixturevalue(VALKEYS[name])
    return backend


# SQL databases: a fresh SQLite file, or our Postgres emptied (or a new empty schema in it).


@asynccontextmanager
async def sql_database(
    name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Database]:
    database: Database
    if name == "sqlite":
        database = SqliteDatabase(tmp_path / "contract.db")
        await migrate(database)
    elif name == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        database = PostgresDatabase(url)
        await migrate(database)
        await truncate(url)
    else:
        raise LookupError(f"no SQL database {name!r}")
    try:
        yield database
    finally:
        await database.close()


@asynccontextmanager
async def empty_sql_databases(
    name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[], Database]]:
    """Opens databases on one place not even migrated: a new SQLite file, or a new schema of
    its own in our Postgres. Each call is another client, as another process would be."""
    opened: list[Database] = []
    if name == "sqlite":
        place = str(tmp_path / "empty.db")
    elif name == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        schema = f"empty_{run_token()}"
        await admin_execute(url, f'CREATE SCHEMA "{schema}"')
        # asyncpg passes unknown URL parameters on as server settings.
        place = f"{url}{'&' if '?' in url else '?'}search_path={schema}"
    else:
        raise LookupError(f"no SQL database {name!r}")

    def open_database() -> Database:
        database: Database
        database = SqliteDatabase(Path(place)) if name == "sqlite" else PostgresDatabase(place)
        opened.append(database)
        return database

    try:
        yield open_database
    finally:
        for database in opened:
            await database.close()
        if name == "postgres":
            await admin_execute(url, f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
async def sqlite_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with sql_database("sqlite", request, tmp_path) as database:
        yield database


@pytest.fixture
async def postgres_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with sql_database("postgres", request, tmp_path) as database:
        yield database


def _sql(request: pytest.FixtureRequest, name: str) -> Database:
    database: Database = request.getfixturevalue(f"{name}_db")
    return database


# The port fixtures are sync so they can ask for the async session backend lazily.


# Grant stores: Valkey keeps no per-user index, it asks SQL for a user's sessions; its
# contract runs with a SQLite database holding the session rows (``start`` writes them).
GRANTS_NOW = datetime(2026, 1, 1, tzinfo=UTC)  # the session rows' clock
GRANTS_LIFETIME = timedelta(days=7)  # the sessions' absolute lifetime there
SESSION_ROWS = pytest.StashKey[Database]()
Start = Callable[[RefreshGrant, datetime], Awaitable[None]]


def sql_user_sessions(database: Database) -> SqlSessionIdsOfUser:
    return SqlSessionIdsOfUser(database)


@pytest.fixture(params=adapters(GRANT_STORES))
def grant_store(request: pytest.FixtureRequest) -> RefreshGrantStore:
    name: str = request.param
    if name == "memory":
        return MemoryGrantStore()
    if name in ("sqlite", "postgres"):
        return SqlGrantStore(_sql(request, name))
    if name in VALKEYS:
        backend = _valkey(request, name)
        database = _sql(request, "sqlite")
        request.node.stash[SESSION_ROWS] = database
        return ValkeyGrantStore(backend.client, sql_user_sessions(database), backend.fresh_prefix())
    raise LookupError(f"no grant store adapter {name!r}")


async def add_session_row(database: Database, grant: RefreshGrant, now: datetime) -> None:
    """The session's row (and its user's, if new), as a sign-in writes it."""
    await database.run(
        lambda tx: tx.execute(
            "INSERT INTO users (id, email, role, created_at, updated_at)"
            " VALUES ($1, $2, 'user', $3, $3) ON CONFLICT (id) DO NOTHING",
            grant.user_id,
            f"user{grant.user_id}@example.com",
            now,
        )
    )
    await SqlSessionRepository(database).add(
        Session(
            id=grant.session_id,
            user_id=grant.user_id,
            ip_address=None,
            user_agent=None,
            created_at=now,
            last_used_at=now,
            expires_at=grant.idle_expires_at,
        )
    )


@pytest.fixture
def start(request: pytest.FixtureRequest, grant_store: RefreshGrantStore) -> Start:
    """Sign in as ``SessionIssuer`` does: the session's row first, then its grant."""
    database = request.node.stash.get(SESSION_ROWS, None)

    async def start(grant: RefreshGrant, now: datetime) -> None:
        if database is not None:
            await add_session_row(database, grant, now)
        await grant_store.issue(grant, now)

    return start


def _integrity(request: pytest.FixtureRequest, name: str) -> GrantStoreIntegrity:
    if name == "memory":
        return MemoryGrantStore()
    if name in ("sqlite", "postgres"):
        return SqlGrantStore(_sql(request, name))
    if name in VALKEYS:
        backend = _valkey(request, name)
        return ValkeyEpoch(backend.client, backend.fresh_prefix())
    raise LookupError(f"no grant store integrity adapter {name!r}")


@pytest.fixture(params=adapters(GRANT_STORES))
def grant_integrity(request: pytest.FixtureRequest) -> GrantStoreIntegrity:
    return _integrity(request, request.param)


@pytest.fixture(params=adapters(["memory", "valkey"]))
def losable_integrity(request: pytest.FixtureRequest) -> GrantStoreIntegrity:
    """The stores kept apart from the SQL database: they can lose their data on their own."""
    return _integrity(request, request.param)


@pytest.fixture(params=adapters(KEYED_STORES))
def one_time_store(request: pytest.FixtureRequest) -> OneTimeStore:
    name: str = request.param
    if name == "memory":
        return MemoryOneTimeStore()
    if name in ("sqlite", "postgres"):
        return SqlOneTimeStore(_sql(request, name))
    if name in VALKEYS:
        backend = _valkey(request, name)
        return ValkeyOneTimeStore(backend.client, backend.fresh_prefix())
    raise LookupError(f"no one-time store adapter {name!r}")


@pytest.fixture(params=adapters(KEYED_STORES))
def rate_limiters(request: pytest.FixtureRequest) -> Callable[[], RateLimiter]:
    """Each call: another limiter instance on the same backing store and namespace."""
    name: str = request.param
    if name == "memory":
        limiter = MemoryRateLimiter()
        return lambda: limiter  # in one process the instance is the backing store
    if name in ("sqlite", "postgres"):
        database = _sql(request, name)
        return lambda: SqlRateLimiter(database)
    if name in VALKEYS:
        backend = _valkey(request, name)
        prefix = backend.fresh_prefix()
        return lambda: ValkeyRateLimiter(backend.another_client(), prefix)
    raise LookupError(f"no rate limiter adapter {name!r}")


@pytest.fixture
def rate_limiter(rate_limiters: Callable[[], RateLimiter]) -> RateLimiter:
    return rate_limiters()


@pytest.fixture(params=adapters(["memory", "sqlite", "postgres"]))
async def users(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[UserRepository]:
    if request.param == "memory":
        yield MemoryUserRepository()
        return
    async with sql_database(request.param, request, tmp_path) as database:
        yield SqlUserRepository(database)


SESSION_OWNERS = ("one@example.com", "two@example.com")  # users 1 and 2
OWNERS_CREATED = datetime(2026, 1, 1, tzinfo=UTC)


async def add_owners(users: UserRepository) -> None:
    """Users 1 and 2, whom sessions and second factors belong to."""
    for email in SESSION_OWNERS:
        await users.add(
            NewUser(
                email=email, password_hash="h", name=None, role="user", created_at=OWNERS_CREATED
            ),
            None,
        )


@pytest.fixture(params=adapters(["memory", "sqlite", "postgres", "sqlite-write-behind"]))
async def sessions(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[SessionRepository]:
    if request.param == "memory":
        yield MemorySessionRepository()
        return
    dialect = request.param.removesuffix("-write-behind")
    async with sql_database(dialect, request, tmp_path) as database:
        owners = SqlUserRepository(database)  # sessions reference real users in SQL
        await add_owners(owners)
        if dialect == request.param:
            yield SqlSessionRepository(database)
            return
        # Touches pending in memory (never flushed here) must read as if written.
        yield WriteBehindSessions(SqlSessionRepository(database), SystemClock(), every=3600)


# The SQL-only suites: the Database abstraction itself, migrations, SQLite files.


@pytest.fixture(params=adapters(["sqlite", "postgres"]))
async def migrated_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Database]:
    async with sql_database(request.param, request, tmp_path) as opened:
        yield opened


@pytest.fixture(params=adapters(["sqlite", "postgres"]))
async def empty_databases(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[], Database]]:
    """Each call: another client on the same not-yet-migrated database."""
    async with empty_sql_databases(request.param, request, tmp_path) as open_database:
        yield open_database


@pytest.fixture
def empty_database(empty_databases: Callable[[], Database]) -> Database:
    return empty_databases()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty migrations folder."""
    (tmp_path / "migrations").mkdir()
    return tmp_path / "migrations"


@pytest.fixture
def sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where `authgate` run in tmp_path keeps its SQLite database (not created yet)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTH_DATABASE_URL", f"sqlite:///{tmp_path}/data/authgate.db")
    return tmp_path / "data" / "authgate.db"


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The common 022, under which files are created 0644 unless asked otherwise."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


# Mail tokens and the outbox: several clients on one migrated database (as several worker
# processes would be), with the two session owners as users 1 and 2.


@pytest.fixture(params=adapters(["sqlite", "postgres"]))
async def mail_clients(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[], Database]]:
    opened: list[Database] = []
    async with sql_database(request.param, request, tmp_path) as first:
        owners = SqlUserRepository(first)
        await add_owners(owners)

        def another() -> Database:
            database: Database
            if request.param == "sqlite":
                database = SqliteDatabase(tmp_path / "contract.db")
            else:
                database = PostgresDatabase(request.getfixturevalue("postgres_url"))
            opened.append(database)
            return database

        try:
            yield another
        finally:
            for database in opened:
                await database.close()


# Second factors: TOTP secrets, recovery codes and passkeys. Each call is another client on
# the same store (another pool, as another worker process would have); users 1 and 2 exist.


@dataclass
class SecondFactorStores:
    totp: TotpCredentials
    recovery: RecoveryCodes
    passkeys: Passkeys
    users: UserRepository  # the owners, whose ``updated_at`` an activation moves


@pytest.fixture(params=adapters(["memory", "sqlite", "postgres"]))
async def second_factor_clients(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[], SecondFactorStores]]:
    if request.param == "memory":
        recovery = MemoryRecoveryCodes()
        users = MemoryUserRepository()
        await add_owners(users)
        stores = SecondFactorStores(
            MemoryTotpCredentials(recovery, None, users), recovery, MemoryPasskeys(), users
        )
        yield lambda: stores
        return
    opened: list[Database] = []
    async with sql_database(request.param, request, tmp_path) as first:
        owners = SqlUserRepository(first)
        await add_owners(owners)

        def another() -> SecondFactorStores:
            database: Database
            if request.param == "sqlite":
                database = SqliteDatabase(tmp_path / "contract.db")
            else:
                database = PostgresDatabase(request.getfixturevalue("postgres_url"))
            opened.append(database)
            return SecondFactorStores(
                SqlTotpCredentials(database),
                SqlRecoveryCodes(database),
                SqlPasskeys(database),
                SqlUserRepository(database),
            )

        try:
            yield another
        finally:
            for database in opened:
                await database.close()


@pytest.fixture
def second_factors(
    second_factor_clients: Callable[[], SecondFactorStores],
) -> SecondFactorStores:
    return second_factor_clients()


@dataclass
class PasskeyAccountStores:
    accounts: PasskeyAccounts
    users: UserRepository
    passkeys: Passkeys


@pytest.fixture(params=adapters(["memory", "sqlite", "postgres"]))
async def passkey_accounts(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[PasskeyAccountStores]:
    if request.param == "memory":
        users, passkeys = MemoryUserRepository(), MemoryPasskeys()
        yield PasskeyAccountStores(MemoryPasskeyAccounts(users, passkeys), users, passkeys)
        return
    async with sql_database(request.param, request, tmp_path) as database:
        yield PasskeyAccountStores(
            SqlPasskeyAccounts(database), SqlUserRepository(database), SqlPasskeys(database)
        )
