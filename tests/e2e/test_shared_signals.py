"""Revocation that reaches a resource server: authgate_client's verifier, in a process of its
own, polls authgate's Shared Signals stream and refuses the tokens of sessions logged out on
a real server, every one of them. How soon is a target, measured by `just bench` (the p99
of 1,000 logouts under load, within a second), not here: a timed test only measures the
machine it runs on."""

from __future__ import annotations

from pathlib import Path

import httpx
from benchmarks.signals import PASSWORD, refusal_latencies

from tests.e2e.clients import client_server

TOKEN = "orders-bearer-0123456789abcdefghijklmn"
LOGOUTS = 200


def test_every_logged_out_sessions_token_is_refused_by_a_resource_server(
    tmp_path: Path,
) -> None:
    with client_server(tmp_path, AUTH_SSF_RECEIVERS=f"orders:{TOKEN}") as server:
        signed_up = httpx.post(
            f"{server.url}/auth/register", json={"email": "ada@site.com", "password": PASSWORD}
        )
        assert signed_up.status_code == 201, signed_up.text
        found = refusal_latencies(server.url, TOKEN, "ada@site.com", LOGOUTS)

    assert found.never == 0  # none still accepted 5 s after the last logout
    assert found.wrong == []  # refused because the session ended, for no other reason
    assert len(found.latencies) == LOGOUTS
