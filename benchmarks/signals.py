"""Revocation at the resource servers: how long after a logout authgate_client's verifier, in
a process of its own and fed by the Shared Signals stream, refuses the session's token (the
hot-paths issue: p99 ≤ 1 s over 1,000 logouts), and how many tokens it checks a second on
one core (≥ 20,000, most of them seen before: the verified-token cache)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

TARGETS = {"tokens/s": "≥ 20,000 /s", "ms": "p99 ≤ 1,000 ms, none missed"}
RECEIVER_TOKEN = "bench-receiver-0123456789abcdefghijklmn"
PASSWORD = "bench-password-1"

# The resource server: told each logged-out token, it verifies every waiting one until it is
# refused because its session ended, and reports how long after the logout that was.
RESOURCE_SERVER = textwrap.dedent(
    """
    import json, sys, time
    from authgate_client.resource import AccessTokenVerifier, InvalidToken

    ENDED = "the token's session has ended"
    issuer, token = sys.argv[1], sys.argv[2]
    verifier = AccessTokenVerifier(issuer, signals_token=token)
    assert verifier.wait_for_signals(10), "the stream never answered"
    print("ready", flush=True)
    pending, latencies, wrong = {}, [], []

    def look():
        for waiting, logged_out_at in list(pending.items()):
            try:
                verifier.verify(waiting)  # a good token of ours, until its logout arrives
            except InvalidToken as refused:
                if str(refused) != ENDED:
                    wrong.append(str(refused))
                latencies.append(time.time() - logged_out_at)
                del pending[waiting]

    for line in sys.stdin:
        if line.strip() == "done":
            break
        sent = json.loads(line)
        pending[sent["token"]] = sent["logged_out_at"]
        look()
    deadline = time.monotonic() + 5
    while pending and time.monotonic() < deadline:
        look()
        time.sleep(0.005)
    print(json.dumps({"latencies": latencies, "never": len(pending), "wrong": wrong}), flush=True)
    """
)


@dataclass(frozen=True, slots=True)
class Refusals:
    latencies: list[float]  # seconds from each logout to its token's refusal, sorted
    never: int  # tokens still accepted 5 s after the last logout
    wrong: list[str]  # refusals for another reason than the session's end

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p99(self) -> float:
        return self.latencies[int(0.99 * (len(self.latencies) - 1))]


def refusal_latencies(url: str, receiver_token: str, email: str, logouts: int) -> Refusals:
    """Sign in and out ``logouts`` times on the server at ``url`` (the account exists with
    PASSWORD); a verifier process polling as ``receiver_token`` reports each refusal."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        httpx.Client(base_url=url, headers={"X-Auth-Transport": "body"}, timeout=30) as http,
    ):
        script = Path(tmp) / "resource_server.py"
        script.write_text(RESOURCE_SERVER)
        verifier = subprocess.Popen(
            [sys.executable, str(script), url, receiver_token],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert verifier.stdin is not None
        assert verifier.stdout is not None
        try:
            if verifier.stdout.readline().strip() != "ready":
                raise RuntimeError("the verifier process did not start")
            for _ in range(logouts):
                signed_in = http.post("/auth/login", json={"email": email, "password": PASSWORD})
                signed_in.raise_for_status()
                body = signed_in.json()
                http.post(
                    "/auth/logout",
                    json={"refresh_token": body["refresh_token"]},
                    headers={"Authorization": f"Bearer {body['access_token']}"},
                ).raise_for_status()
                line = {"token": body["access_token"], "logged_out_at": time.time()}
                verifier.stdin.write(json.dumps(line) + "\n")
                verifier.stdin.flush()
            verifier.stdin.write("done\n")
            verifier.stdin.flush()
            report = json.loads(verifier.stdout.readline())
        finally:
            verifier.stdin.close()
            verifier.wait(timeout=30)
    return Refusals(sorted(report["latencies"]), report["never"], report["wrong"])


def verifier_rate(seconds: float, workdir: Path, distinct: int = 10_000) -> float:
    """Tokens checked a second by one thread of AccessTokenVerifier, over ``distinct``
    different live tokens used over and over (a resource server's traffic: the same users'
    tokens, request after request). The key set comes from an in-process transport."""
    from authgate_client.resource import AccessTokenVerifier
    from domain.assurance import Assurance
    from domain.ports import AccessClaims
    from infrastructure.security.keys import load_or_create_keys
    from infrastructure.security.tokens import JwtAccessTokens

    keys = load_or_create_keys(workdir / "verifier-keys.json")
    issuer = "https://auth.bench"
    tokens = JwtAccessTokens(
        keys.signing, issuer=issuer, audience="authgate", clock=lambda: datetime.now(UTC)
    )
    now = datetime.now(UTC)
    issued = [
        tokens.issue(
            AccessClaims(
                user_id=n,
                session_id=f"s{n}",
                role="user",
                token_id=f"j{n}",
                issued_at=now,
                expires_at=now + timedelta(minutes=15),
                assurance=Assurance(now, ("pwd",)),
            )
        )
        for n in range(distinct)
    ]
    jwks = tokens.jwks()
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=jwks))
    with httpx.Client(transport=transport) as http:
        verifier = AccessTokenVerifier(issuer, http=http)
        for token in issued:  # each verified once: what a warm resource server holds
            verifier.verify(token)
        checked, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            for token in issued[:1000]:
                verifier.verify(token)
            checked += 1000
        return checked / (time.perf_counter() - started)


@contextmanager
def _server(workdir: Path) -> Iterator[str]:
    from benchmarks.servers import authgate, authgate_env, free_port

    port = free_port()
    env = {
        **authgate_env(workdir, f"sqlite:///{workdir / 'signals.db'}", ""),
        "AUTH_SSF_RECEIVERS": f"bench:{RECEIVER_TOKEN}",
        # The verifier checks iss against where it polls: the server names itself so.
        "AUTH_PORT": str(port),
        "AUTH_ISSUER": f"http://127.0.0.1:{port}",
    }
    env.pop("AUTH_GRANTS_URL")
    with authgate(env) as server:
        yield server.url


def rows(*, quick: bool) -> list[tuple[str, float, str, bool]]:
    logouts = 200 if quick else 1000
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        rate = verifier_rate(1.0 if quick else 3.0, workdir)
        with _server(workdir) as url:
            email = "signals@bench.example"
            httpx.post(
                f"{url}/auth/register", json={"email": email, "password": PASSWORD}, timeout=30
            ).raise_for_status()
            found = refusal_latencies(url, RECEIVER_TOKEN, email, logouts)
    complete = found.never == 0 and not found.wrong and len(found.latencies) == logouts
    return [
        ("resource-server verifier (one thread)", rate, "tokens/s", rate >= 20_000),
        (f"logout → refused there, p50 ({logouts})", found.p50 * 1000, "ms", complete),
        (
            f"logout → refused there, p99 ({logouts})",
            found.p99 * 1000,
            "ms",
            complete and found.p99 <= 1.0,
        ),
    ]
