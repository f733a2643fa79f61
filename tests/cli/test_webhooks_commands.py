"""``authgate webhooks …``: every verb, and its failures as one line with exit code 1."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli.conftest import Authgate
from tests.cli.test_users_commands import import_users

URL = "https://hooks.example.com/authgate"


def test_webhooks_add_shows_the_secret_once_and_list_never(authgate: Authgate) -> None:
    added = authgate("webhooks", "add", URL, "--events", "user.created,user.deleted")

    assert added.code == 0
    assert re.fullmatch(r"webhook 1 added\nsecret: whsec_\S+  \(shown this once.*\)\n", added.out)
    listed = authgate("webhooks", "list").out
    assert re.fullmatch(rf" +1  active    \S+Z  {URL}  user.created,user.deleted\n", listed)
    assert "whsec_" not in listed


def test_an_operators_change_writes_the_audit_line_an_admins_request_would(
    authgate: Authgate,
) -> None:
    added = authgate("webhooks", "add", URL, "--events", "user.created")

    [line] = [json.loads(x) for x in added.err.splitlines() if x.startswith("{")]
    assert line["logger"] == "authgate.audit"
    assert (line["message"], line["actor"], line["target"]) == ("webhook_added", "cli", "webhook:1")
    assert "secret" not in json.dumps(line)


def test_webhooks_rotate_secret_shows_a_new_secret(authgate: Authgate) -> None:
    first = authgate("webhooks", "add", URL, "--events", "user.created").out

    rotated = authgate("webhooks", "rotate-secret", "1")

    assert rotated.code == 0
    secret = re.search(r"whsec_\S+", rotated.out)
    assert secret is not None
    assert secret.group() not in first


def test_webhooks_remove_forgets_the_endpoint(authgate: Authgate) -> None:
    authgate("webhooks", "add", URL, "--events", "user.created")

    assert authgate("webhooks", "remove", "1").out == "webhook 1 removed\n"
    assert authgate("webhooks", "list").out == ""


def test_webhooks_deliveries_lists_them_and_replay_queues_one_again(
    authgate: Authgate, tmp_path: Path
) -> None:
    import_users(authgate, tmp_path, "one@site.com")
    authgate("webhooks", "add", URL, "--events", "user.disabled")
    authgate("users", "disable", "1")

    listed = authgate("webhooks", "deliveries", "1")
    replayed = authgate("webhooks", "replay", "1", "1")
    again = authgate("webhooks", "deliveries", "1").out.splitlines()

    assert listed.code == 0
    first = listed.out.splitlines()
    assert len(first) == 1
    assert re.match(r" +1  msg_\S+  user.disabled .* attempts=0 .* pending$", first[0])
    assert replayed.out == "delivery 1 queued again\n"
    assert [row.split()[:2] for row in again] == [["2", first[0].split()[1]], first[0].split()[:2]]


def test_webhooks_enable_sends_to_the_endpoint_again(authgate: Authgate) -> None:
    authgate("webhooks", "add", URL, "--events", "user.created")

    enabled = authgate("webhooks", "enable", "1")

    assert (enabled.code, enabled.out) == (0, "webhook 1 enabled\n")
    assert " active " in authgate("webhooks", "list").out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["webhooks", "remove", "7"], "authgate webhooks: No such webhook endpoint or delivery."),
        (["webhooks", "deliveries", "7"], "authgate webhooks: No such webhook endpoint"),
        (["webhooks", "replay", "1", "99"], "authgate webhooks: No such webhook endpoint"),
        (["webhooks", "rotate-secret", "7"], "authgate webhooks: No such webhook endpoint"),
        (["webhooks", "enable", "7"], "authgate webhooks: No such webhook endpoint"),
        (
            ["webhooks", "add", "http://hooks.example.com", "--events", "user.created"],
            "authgate webhooks: url must be https://",
        ),
        (["webhooks", "add", URL, "--events", "user.nothing"], "authgate webhooks: events one"),
    ],
)
def test_webhooks_failures_are_one_line_with_exit_code_1(
    authgate: Authgate, argv: list[str], message: str
) -> None:
    authgate("webhooks", "add", URL, "--events", "user.created")

    failed = authgate(*argv)

    assert failed.code == 1
    assert failed.err.startswith(message)
    assert len(failed.err.splitlines()) == 1


@pytest.mark.parametrize("webhook", ["0", "x", "9" * 30])
def test_webhooks_refuse_what_is_not_an_id(authgate: Authgate, webhook: str) -> None:
    with pytest.raises(SystemExit) as exited:
        authgate("webhooks", "remove", webhook)

    assert exited.value.code == 2
