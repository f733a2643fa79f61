"""``authgate users …``: every verb, and its failures as one line with exit code 1."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from valkey.exceptions import ValkeyClusterException

from domain.entities import NewPasskey
from domain.errors import StorageUnavailable
from infrastructure.config import load_settings
from infrastructure.persistence.passkeys import SqlPasskeys
from infrastructure.persistence.second_factor import SqlTotpCredentials
from interfaces.bootstrap.backends import open_database
from interfaces.cli.errors import unavailable
from tests.backends import run_sync
from tests.cli.conftest import Authgate

HASH = "$2b$10$" + "a" * 53


def import_users(authgate: Authgate, tmp_path: Path, *emails: str) -> None:
    lines = [json.dumps({"email": e, "password_hash": HASH}) for e in emails]
    (tmp_path / "users.jsonl").write_text("\n".join(lines) + "\n")
    assert authgate("import-users", str(tmp_path / "users.jsonl")).code == 0


def test_users_list_shows_every_user_by_id(authgate: Authgate, tmp_path: Path) -> None:
    import_users(authgate, tmp_path, "one@site.com", "two@site.com")

    listed = authgate("users", "list")
    only = authgate("users", "list", "--email", "TWO@site.com")

    assert listed.code == 0
    rows = listed.out.splitlines()
    assert [row.split()[-1] for row in rows] == ["one@site.com", "two@site.com"]
    assert re.fullmatch(r" +1  user   active    \S+Z  one@site.com", rows[0])
    assert only.out.split()[-1] == "two@site.com"
    assert len(only.out.splitlines()) == 1


def test_users_verbs_change_the_account_by_id_or_email(authgate: Authgate, tmp_path: Path) -> None:
    import_users(authgate, tmp_path, "one@site.com", "two@site.com")
    assert authgate("users", "set-role", "two@site.com", "admin").code == 0  # not the last

    assert authgate("users", "set-role", "one@site.com", "admin").code == 0
    assert "role:          admin" in authgate("users", "show", "1").out
    disabled = authgate("users", "disable", "one@site.com")
    assert disabled.out == "user 1 disabled; its sessions are revoked\n"
    assert re.search(r"^disabled:      \S+Z$", authgate("users", "show", "1").out, re.M)
    assert authgate("users", "enable", "1").code == 0
    assert "disabled:      no" in authgate("users", "show", "one@site.com").out
    assert authgate("users", "unlock", "1").out == "user 1 unlocked\n"
    assert authgate("users", "delete", "1", "--yes").out == "user 1 deleted\n"
    assert [row.split()[-1] for row in authgate("users", "list").out.splitlines()] == [
        "two@site.com"
    ]


def test_the_last_active_admin_cannot_be_demoted_disabled_or_deleted(
    authgate: Authgate, tmp_path: Path
) -> None:
    import_users(authgate, tmp_path, "one@site.com")
    assert authgate("users", "set-role", "one@site.com", "admin").code == 0

    for argv in (["set-role", "1", "user"], ["disable", "1"], ["delete", "1", "--yes"]):
        refused = authgate("users", *argv)
        assert refused.code == 1
        assert refused.err == (
            "authgate users: This is the last active admin: make another user an admin first.\n"
        )
    assert "role:          admin" in authgate("users", "show", "1").out


def test_users_show_lists_sessions_and_no_identities(authgate: Authgate, tmp_path: Path) -> None:
    import_users(authgate, tmp_path, "one@site.com")

    shown = authgate("users", "show", "1")

    assert shown.code == 0
    assert "email:         one@site.com" in shown.out
    assert "live_sessions: 0" in shown.out
    assert "identity:" not in shown.out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["users", "show", "42"], "authgate users: No such user.\n"),
        (["users", "disable", "nobody@site.com"], "authgate users: no user with email"),
        (["users", "show", "9" * 30], "authgate users: no user with id"),
        (["users", "delete", "1"], "authgate users: this erases user 1 for good: add --yes"),
    ],
)
def test_users_failures_are_one_line_with_exit_code_1(
    authgate: Authgate, argv: list[str], message: str
) -> None:
    outcome = authgate(*argv)

    assert outcome.code == 1
    assert outcome.err.startswith(message)
    assert outcome.err.count("\n") == 1
    assert "Traceback" not in outcome.err


def test_users_before_migrate_say_to_run_migrate(unmigrated: Authgate) -> None:
    for argv in (["users", "list"], ["users", "show", "1"]):
        outcome = unmigrated(*argv)
        assert outcome.code == 1
        assert outcome.err.startswith("authgate users: database not migrated (0001_init")
        assert outcome.err.endswith("pending): run `authgate migrate`\n")


def test_an_unreachable_postgres_is_named_with_its_host_and_the_fix(
    unmigrated: Authgate, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AUTH_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/nothing")
    (tmp_path / "users.jsonl").write_text("\n")
    for argv in (["users", "list"], ["import-users", "users.jsonl"], ["migrate"]):
        outcome = unmigrated(*argv)
        assert outcome.code == 1
        assert outcome.err.count("\n") == 1
        assert "database unavailable: PostgreSQL at 127.0.0.1:9 does not answer" in outcome.err
        assert outcome.err.endswith("start it, or fix AUTH_DATABASE_URL\n")


def test_an_unreachable_valkey_cluster_is_named_by_its_nodes_without_credentials() -> None:
    settings = load_settings(
        {"AUTH_GRANTS_URL": "valkey+cluster://user:secret@a:7000,b:7001?prefix=x:"}, dotenv=None
    )
    error = StorageUnavailable(backend="grants")
    error.__cause__ = ValkeyClusterException("Valkey Cluster cannot be connected.")

    assert unavailable(settings, error) == (
        "database unavailable: Valkey Cluster at a:7000,b:7001 does not answer"
        " (ValkeyClusterException: Valkey Cluster cannot be connected.): start it, or fix"
        " AUTH_GRANTS_URL"
    )


async def _second_factors(user_id: int, *, add: bool) -> tuple[bool, int]:
    """Give the user an app and a passkey (``add``); whether it has an app, how many keys."""
    database = open_database(load_settings())
    try:
        totp, passkeys = SqlTotpCredentials(database), SqlPasskeys(database)
        if add:
            now = datetime.now(UTC)
            assert await totp.start(user_id, "sealed", now)
            assert await totp.activate(user_id, "sealed", 1, ["digest"], now)
            await passkeys.add(
                NewPasskey(
                    user_id=user_id,
                    credential_id=b"cred",
                    public_key=b"key",
                    sign_count=0,
                    transports=(),
                    user_handle=b"handle",
                    name=None,
                    created_at=now,
                )
            )
        credential = await totp.get(user_id)
        return credential is not None, len(await passkeys.of_user(user_id))
    finally:
        await database.close()


def test_users_mfa_reset_removes_the_app_its_codes_and_the_passkeys(
    authgate: Authgate, tmp_path: Path
) -> None:
    import_users(authgate, tmp_path, "one@site.com")
    assert run_sync(_second_factors(1, add=True)) == (True, 1)

    reset = authgate("users", "mfa-reset", "one@site.com")

    assert (reset.code, reset.out) == (0, "user 1 has no second factor now\n")
    assert run_sync(_second_factors(1, add=False)) == (False, 0)
    assert authgate("users", "mfa-reset", "1").code == 0  # nothing left: still fine
    missing = authgate("users", "mfa-reset", "42")
    assert (missing.code, missing.err) == (1, "authgate users: No such user.\n")


def test_an_operators_role_grant_writes_the_audit_line_an_admins_request_would(
    authgate: Authgate, tmp_path: Path
) -> None:
    import_users(authgate, tmp_path, "one@site.com")

    granted = authgate("users", "set-role", "one@site.com", "admin")

    assert granted.code == 0
    [line] = [json.loads(x) for x in granted.err.splitlines() if x.startswith("{")]
    assert line["logger"] == "authgate.audit"
    assert (line["message"], line["user_id"], line["actor"]) == ("role_set_admin", 1, "cli")
    assert "role_set_admin" not in granted.out  # stdout stays the command's answer
