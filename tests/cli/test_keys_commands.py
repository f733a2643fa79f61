"""``authgate keys …``: rotate publishes both keys, and a running server follows the file."""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from litestar.testing import AsyncTestClient

from infrastructure.config import load_settings
from infrastructure.security import key_rotation
from interfaces.http.app import create_app
from tests.cli.conftest import Authgate
from tests.http.helpers import assert_access_works, jwt_parts, sign_up

BASE_URL = "https://testserver.local"


def kids(authgate: Authgate) -> list[str]:
    listed = authgate("keys", "list")
    assert listed.code == 0
    return [row.split()[0] for row in listed.out.splitlines()]


def backdate_signing_start(keys_file: Path, by: timedelta) -> None:
    data = json.loads(keys_file.read_text())
    data["signing_since"] = {
        kid: (datetime.fromisoformat(since) - by).isoformat()
        for kid, since in data["signing_since"].items()
    }
    keys_file.write_text(json.dumps(data))


def test_rotate_adds_a_signing_key_and_keeps_the_old_one_published(
    authgate: Authgate, tmp_path: Path
) -> None:
    first = authgate("keys", "rotate")
    (old,) = kids(authgate)[1:]

    rotated = authgate("keys", "rotate")

    assert first.code == rotated.code == 0
    new = kids(authgate)
    assert len(new) == 3
    assert new[2] == old
    assert f"new signing key {new[0]};" in rotated.out
    assert authgate("keys", "list").out.splitlines()[0].split()[1] == "signing"


def test_retire_waits_for_the_access_token_lifetime_after_the_newer_key_started(
    authgate: Authgate, tmp_path: Path
) -> None:
    authgate("keys", "rotate")
    authgate("keys", "rotate")
    signing, _, oldest = kids(authgate)

    too_early = authgate("keys", "retire", oldest)
    the_signer = authgate("keys", "retire", signing)
    unknown = authgate("keys", "retire", "no-such-kid")
    backdate_signing_start(tmp_path / "jwks.json", timedelta(seconds=901))
    retired = authgate("keys", "retire", oldest)

    assert too_early.code == 1
    assert too_early.err.startswith(f"authgate keys: key {oldest} may still verify live access")
    assert too_early.err.endswith("retire it after that\n")
    assert the_signer.err == (
        f"authgate keys: key {signing} is signing: run `authgate keys rotate` first\n"
    )
    assert unknown.err.startswith("authgate keys: no key 'no-such-kid'")
    assert retired.out == f"key {oldest} retired\n"
    assert oldest not in kids(authgate)
    assert len(kids(authgate)) == 2


def test_retire_waits_a_reload_more_for_the_servers_still_signing_with_the_old_key(
    authgate: Authgate, tmp_path: Path
) -> None:
    """A server looks at the keys file once a second: the old key may sign for up to a second
    after the rotation was written, and its tokens live the whole lifetime after that."""
    authgate("keys", "rotate")
    _, old = kids(authgate)
    backdate_signing_start(tmp_path / "jwks.json", timedelta(seconds=900.5))

    refused = authgate("keys", "retire", old)

    assert refused.code == 1
    assert old in kids(authgate)


def test_rotations_and_retirements_at_once_lose_no_key(authgate: Authgate, tmp_path: Path) -> None:
    """Two operators (or a cron job and one) changing the file at once: each change reads
    and writes the file under one lock, so none writes back a list without the other's key
    (a key lost there unpublishes every token it signed)."""
    keys_file = tmp_path / "jwks.json"
    authgate("keys", "rotate")
    backdate_signing_start(keys_file, timedelta(hours=1))
    retiring = kids(authgate)[1]
    start = threading.Barrier(9)

    def rotate() -> str:
        start.wait()
        return key_rotation.rotate(keys_file, datetime.now(UTC) + timedelta(hours=1))

    def retire() -> None:
        start.wait()
        key_rotation.retire(keys_file, retiring, datetime.now(UTC), timedelta(minutes=15))

    with ThreadPoolExecutor(9) as pool:
        rotations = [pool.submit(rotate) for _ in range(8)]
        retirement = pool.submit(retire)
        added = {future.result() for future in rotations}

    left = kids(authgate)
    assert added <= set(left)
    assert len(left) == 2 + 8 - (retirement.exception() is None)


def test_keys_list_without_a_keys_file_says_where_it_looked(authgate: Authgate) -> None:
    outcome = authgate("keys", "list")

    assert outcome.code == 1
    assert outcome.err.startswith("authgate keys: no keys file at ")
    assert outcome.err.endswith("start the service once or check AUTH_KEYS_FILE\n")


async def test_a_running_server_publishes_and_signs_with_a_rotated_key_without_restart(
    authgate: Authgate,
) -> None:
    settings = load_settings()
    async with AsyncTestClient(create_app(settings), base_url=BASE_URL) as client:
        before = await sign_up(client, "user@site.com")
        (old,) = [k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]]

        assert authgate("keys", "rotate").code == 0
        await asyncio.sleep(1.1)  # the server looks at the file's stamp once a second
        published = (await client.get("/.well-known/jwks.json")).json()["keys"]
        after = await sign_up(client, "other@site.com")

        new = kids(authgate)[0]
        assert [k["kid"] for k in published] == [new, old]
        assert jwt_parts(after.access_token)[0]["kid"] == new
        await assert_access_works(client, before.access_token)  # the old key still verifies
        await assert_access_works(client, after.access_token)


def test_a_key_id_that_begins_with_a_dash_is_a_key_id_not_an_option(authgate: Authgate) -> None:
    # base64url key ids begin with "-" one time in 64
    authgate("keys", "rotate")
    unknown = authgate("keys", "retire", "-Xy_no-such-kid")

    assert unknown.code == 1
    assert unknown.err.startswith("authgate keys: no key '-Xy_no-such-kid'")
