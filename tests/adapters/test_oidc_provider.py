"""The OpenID Connect adapter against a fake provider on loopback (tests/servers/oidc.py)."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest
from joserfc.errors import JoseError

from domain.errors import IdentityProviderError, IdentityProviderUnavailable
from domain.ports.identity import ExternalProfile
from infrastructure.oauth.oidc import OidcProvider
from tests.servers.oidc import OMIT, FakeOidcProvider, FakeProfile, s256

REDIRECT_URI = "https://app.example.test/auth/google/callback"
LOGGER = "infrastructure.oauth"
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z: both clocks are pinned to it unless a test moves one


@pytest.fixture
def idp() -> Iterator[FakeOidcProvider]:
    with FakeOidcProvider(redirect_uri=REDIRECT_URI) as server:
        server.now = lambda: float(T0)
        yield server


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # Shared: building a client (its TLS context) costs more than most tests here.
    # trust_env=False: no proxy from the environment may see these requests.
    async with httpx.AsyncClient(trust_env=False) as http:
        yield http


def at(offset: float = 0.0) -> Callable[[], datetime]:
    return lambda: datetime.fromtimestamp(T0 + offset, UTC)


def adapter(client: httpx.AsyncClient, idp: FakeOidcProvider, **options: Any) -> OidcProvider:
    settings: dict[str, Any] = {
        "name": "google",
        "discovery_url": idp.discovery_url,
        "client_id": idp.client_id,
        "client_secret": idp.client_secret,
        "redirect_uri": REDIRECT_URI,
        "clock": at(),
    }
    return OidcProvider(client, **(settings | options))


@dataclass(frozen=True)
class Attempt:
    state: str
    nonce: str
    verifier: str
    code: str


async def authorize(client: httpx.AsyncClient, provider: OidcProvider) -> Attempt:
    """What the browser does: follow the authorization URL to the provider and back."""
    state, nonce, verifier = (secrets.token_urlsafe(n) for n in (16, 16, 48))
    url = await provider.authorization_url(state=state, nonce=nonce, code_challenge=s256(verifier))
    answer = await client.get(url)  # httpx does not follow redirects unless told to
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    assert back._replace(query="").geturl() == REDIRECT_URI
    params = parse_qs(back.query)
    assert params["state"] == [state]
    return Attempt(state=state, nonce=nonce, verifier=verifier, code=params["code"][0])


async def sign_in(client: httpx.AsyncClient, provider: OidcProvider) -> ExternalProfile:
    attempt = await authorize(client, provider)
    return await provider.complete(
        code=attempt.code, code_verifier=attempt.verifier, nonce=attempt.nonce
    )


async def rejected(client: httpx.AsyncClient, provider: OidcProvider) -> IdentityProviderError:
    with pytest.raises(IdentityProviderError) as caught:
        await sign_in(client, provider)
    return caught.value


# -- authorization URL ----------------------------------------------------------------------


async def test_authorization_url_has_all_required_params_and_exact_redirect_uri(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    provider = adapter(client, idp)

    url = await provider.authorization_url(state="st-1", nonce="no-1", code_challenge="ch-1")

    parts = urlsplit(url)
    assert parts._replace(query="").geturl() == idp.authorization_endpoint
    params = parse_qsl(parts.query, keep_blank_values=True)
    assert dict(params) == {
        "response_type": "code",
        "scope": "openid email profile",
        "client_id": idp.client_id,
        "redirect_uri": REDIRECT_URI,
        "state": "st-1",
        "nonce": "no-1",
        "code_challenge": "ch-1",
        "code_challenge_method": "S256",
    }
    assert len(params) == len(dict(params))  # no parameter twice
    assert idp.hits["token"] == 0


async def test_authorization_url_encodes_values_and_keeps_the_endpoint_query(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    idp.discovery_overrides = {
        "authorization_endpoint": idp.authorization_endpoint + "?prompt=select_account&scope=x"
    }
    provider = adapter(client, idp, redirect_uri=REDIRECT_URI + "?tenant=a&b=c d")

    url = await provider.authorization_url(state="a&b=c", nonce="n+1/2", code_challenge="ch")

    params = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    names = [name for name, _ in params]
    assert names[0] == "prompt"
    assert names.count("scope") == 1
    values = dict(params)
    assert values["prompt"] == "select_account"
    assert values["scope"] == "openid email profile"
    assert values["redirect_uri"] == REDIRECT_URI + "?tenant=a&b=c d"
    assert (values["state"], values["nonce"]) == ("a&b=c", "n+1/2")


async def test_the_discovery_document_is_fetched_once(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    provider = adapter(client, idp)

    await provider.authorization_url(state="s", nonce="n", code_challenge="c")
    await sign_in(client, provider)
    await sign_in(client, provider)

    assert idp.hits["discovery"] == 1
    assert idp.hits["jwks"] == 1


async def test_a_failed_discovery_is_not_cached(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    provider = adapter(client, idp)
    idp.down["discovery"] = "503"

    with pytest.raises(IdentityProviderUnavailable):
        await provider.authorization_url(state="s", nonce="n", code_challenge="c")
    idp.down.clear()
    await provider.authorization_url(state="s", nonce="n", code_challenge="c")

    assert idp.hits["discovery"] == 2


async def test_a_discovery_document_for_another_issuer_is_not_used(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    idp.discovery_overrides = {"issuer": "https://evil.example"}

    with pytest.raises(IdentityProviderUnavailable):
        await adapter(client, idp).authorization_url(state="s", nonce="n", code_challenge="c")


async def test_plain_http_endpoints_are_refused_off_loopback(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    with pytest.raises(ValueError, match="https"):
        adapter(client, idp, discovery_url="http://idp.example/.well-known/openid-configuration")
    idp.discovery_overrides = {"token_endpoint": "http://idp.example/token"}

    with pytest.raises(IdentityProviderUnavailable):
        await adapter(client, idp).authorization_url(state="s", nonce="n", code_challenge="c")


# -- the round trip -------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
async def test_a_full_round_trip_returns_the_profile(
    client: httpx.AsyncClient, algorithm: Any
) -> None:
    with FakeOidcProvider(redirect_uri=REDIRECT_URI, algorithm=algorithm) as idp:
        idp.profile = FakeProfile(
            sub="10769150350006150715113082367",
            email="grace@example.test",
            email_verified=True,
            name="Grace Hopper",
        )
        provider = adapter(client, idp, clock=lambda: datetime.now(UTC))

        attempt = await authorize(client, provider)
        profile = await provider.complete(
            code=attempt.code, code_verifier=attempt.verifier, nonce=attempt.nonce
        )

        assert profile == ExternalProfile(
            issuer=idp.issuer,
            subject="10769150350006150715113082367",
            email="grace@example.test",
            email_verified=True,
            name="Grace Hopper",
        )
        assert idp.token_requests == [
            {
                "grant_type": "authorization_code",
                "code": attempt.code,
                "redirect_uri": REDIRECT_URI,
                "client_id": idp.client_id,
                "client_secret": idp.client_secret,
                "code_verifier": attempt.verifier,
            }
        ]


@pytest.mark.parametrize(
    ("sent", "verified"),
    [(True, True), ("true", True), (False, False), ("false", False), ("True ", False)],
)
async def test_email_verified_as_string_true(
    client: httpx.AsyncClient, idp: FakeOidcProvider, sent: bool | str, verified: bool
) -> None:
    idp.profile = FakeProfile(email="ada@example.test", email_verified=sent)

    profile = await sign_in(client, adapter(client, idp))

    assert profile.email_verified is verified


async def test_without_email_the_profile_is_unverified(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    idp.profile = FakeProfile(email=None, name=None)
    idp.claims = {"email_verified": True}

    profile = await sign_in(client, adapter(client, idp))

    assert (profile.email, profile.email_verified, profile.name) == (None, False, None)


async def test_an_issuer_alias_is_accepted_and_the_profile_keeps_the_canonical_issuer(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    # Google's "accounts.google.com" and "https://accounts.google.com" are one issuer.
    idp.claims = {"iss": "fake-idp.example"}
    provider = adapter(client, idp, issuers={idp.issuer, "fake-idp.example"})

    profile = await sign_in(client, provider)

    assert profile.issuer == idp.issuer


async def test_several_audiences_with_our_azp_are_accepted(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    idp.claims = {"aud": [idp.client_id, "another-client"], "azp": idp.client_id}

    profile = await sign_in(client, adapter(client, idp))

    assert profile.subject == FakeProfile().sub


# -- ID token rejections --------------------------------------------------------------------


def _claims(idp: FakeOidcProvider, case: str, nonce: str) -> dict[str, Any]:
    return {
        "wrong_nonce": {"nonce": "another-nonce"},
        "nonce_missing": {"nonce": OMIT},
        "nonce_as_list": {"nonce": [nonce, "x"]},
        "wrong_audience": {"aud": "someone-else.apps.example.test"},
        "audience_missing": {"aud": OMIT},
        "wrong_issuer": {"iss": "https://evil.example"},
        "issuer_missing": {"iss": OMIT},
        "expired": {"exp": T0 - 3600},
        "exp_missing": {"exp": OMIT},
        "iat_missing": {"iat": OMIT},
        "iat_in_the_future": {"iat": T0 + 3600},
        "not_yet_valid": {"nbf": T0 + 3600},
        "azp_mismatch": {"aud": [idp.client_id], "azp": "other-client"},
        "several_audiences_without_azp": {"aud": [idp.client_id, "other"], "azp": OMIT},
        "sub_missing": {"sub": OMIT},
        "sub_empty": {"sub": ""},
    }[case]


@pytest.mark.parametrize(
    "case",
    [
        "wrong_nonce",
        "nonce_missing",
        "nonce_as_list",
        "wrong_audience",
        "audience_missing",
        "wrong_issuer",
        "issuer_missing",
        "expired",
        "exp_missing",
        "iat_missing",
        "iat_in_the_future",
        "not_yet_valid",
        "azp_mismatch",
        "several_audiences_without_azp",
        "sub_missing",
        "sub_empty",
    ],
)
async def test_an_unacceptable_id_token_is_rejected(
    client: httpx.AsyncClient,
    idp: FakeOidcProvider,
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    provider = adapter(client, idp)
    attempt = await authorize(client, provider)
    idp.claims = _claims(idp, case, attempt.nonce)

    with (
        caplog.at_level(logging.WARNING, logger=LOGGER),
        pytest.raises(IdentityProviderError) as caught,
    ):
        await provider.complete(
            code=attempt.code, code_verifier=attempt.verifier, nonce=attempt.nonce
        )

    assert caught.value.provider_code == "invalid_id_token"
    assert str(caught.value) == IdentityProviderError.message  # no detail for the client
    assert "ID token rejected" in caplog.text  # the reason is in the log


async def test_the_injected_clock_decides_expiry_with_leeway(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    # The fake issues iat = T0 and exp = T0 + 3600; the leeway is 60 s.
    assert (await sign_in(client, adapter(client, idp, clock=at(3600 + 59)))).subject
    assert (await sign_in(client, adapter(client, idp, clock=at(-59)))).subject
    await rejected(client, adapter(client, idp, clock=at(3600 + 60)))
    await rejected(client, adapter(client, idp, clock=at(-61)))
    await rejected(client, adapter(client, idp, clock=at(3600 + 1), leeway=0))


@pytest.mark.parametrize("alg", ["HS256", "none"])
async def test_an_id_token_with_alg_hs256_or_none_is_rejected(
    client: httpx.AsyncClient, idp: FakeOidcProvider, alg: Any
) -> None:
    idp.forge = alg

    error = await rejected(client, adapter(client, idp))

    assert error.provider_code == "invalid_id_token"
    assert idp.hits["jwks"] == 0  # refused on the header alone


async def test_a_bad_signature_is_rejected(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    old_kid = idp.kid
    idp.rotate_keys(keep_old=True)
    idp.header = {"kid": old_kid}  # names the old key, signed with the new one

    error = await rejected(client, adapter(client, idp))

    assert isinstance(error.__cause__, JoseError)


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "e30.e30.", "x" * 5000])
async def test_a_token_that_is_not_a_jws_is_rejected(
    client: httpx.AsyncClient, idp: FakeOidcProvider, token: str
) -> None:
    idp.token_overrides = {"id_token": token}

    error = await rejected(client, adapter(client, idp))

    assert error.provider_code == "invalid_id_token"


# -- keys -----------------------------------------------------------------------------------


async def test_unknown_kid_after_key_rotation_succeeds_after_one_jwks_refetch(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    provider = adapter(client, idp)
    await sign_in(client, provider)
    assert idp.hits["jwks"] == 1

    idp.rotate_keys()
    profile = await sign_in(client, provider)
    assert idp.hits["jwks"] == 2
    await sign_in(client, provider)  # the new key is cached now

    assert profile.subject == FakeProfile().sub
    assert idp.hits["jwks"] == 2


async def test_a_kid_unknown_even_after_refetch_is_rejected(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    provider = adapter(client, idp)
    await sign_in(client, provider)
    idp.header = {"kid": "no-such-key"}

    error = await rejected(client, provider)
    again = await rejected(client, provider)

    assert error.provider_code == again.provider_code == "invalid_id_token"
    assert idp.hits["jwks"] == 3  # the first fetch, then one re-fetch per token


async def test_a_kid_unknown_at_the_first_fetch_is_not_fetched_twice(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    idp.header = {"kid": "no-such-key"}

    await rejected(client, adapter(client, idp))

    assert idp.hits["jwks"] == 1


# -- the code exchange ----------------------------------------------------------------------


async def test_a_pkce_verifier_mismatch_is_refused_with_invalid_grant(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    provider = adapter(client, idp)
    attempt = await authorize(client, provider)

    with pytest.raises(IdentityProviderError) as caught:
        await provider.complete(
            code=attempt.code, code_verifier=secrets.token_urlsafe(48), nonce=attempt.nonce
        )

    assert caught.value.provider_code == "invalid_grant"
    assert idp.hits["jwks"] == 0


async def test_a_used_code_is_refused_with_invalid_grant(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    provider = adapter(client, idp)
    attempt = await authorize(client, provider)
    await provider.complete(code=attempt.code, code_verifier=attempt.verifier, nonce=attempt.nonce)

    with pytest.raises(IdentityProviderError) as caught:
        await provider.complete(
            code=attempt.code, code_verifier=attempt.verifier, nonce=attempt.nonce
        )

    assert caught.value.provider_code == "invalid_grant"


async def test_wrong_client_credentials_are_refused_with_invalid_client(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    error = await rejected(client, adapter(client, idp, client_secret="not-the-secret"))

    assert error.provider_code == "invalid_client"


async def test_a_token_answer_without_id_token_is_rejected(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    idp.token_overrides = {"id_token": OMIT}

    error = await rejected(client, adapter(client, idp))

    assert error.provider_code == "invalid_id_token"


# -- the provider is down -------------------------------------------------------------------


OUTAGES = ["503", "hang", "garbage"]


@pytest.mark.parametrize("outage", OUTAGES)
@pytest.mark.parametrize("endpoint", ["token", "jwks"])
async def test_provider_down_is_unavailable(
    client: httpx.AsyncClient, idp: FakeOidcProvider, endpoint: Any, outage: Any
) -> None:
    provider = adapter(client, idp, timeout=0.3)
    attempt = await authorize(client, provider)
    idp.down[endpoint] = outage

    started = time.monotonic()
    with pytest.raises(IdentityProviderUnavailable) as caught:
        await provider.complete(
            code=attempt.code, code_verifier=attempt.verifier, nonce=attempt.nonce
        )

    assert time.monotonic() - started < 2
    assert isinstance(caught.value.__cause__, (httpx.HTTPError, ValueError))
    assert idp.hits[endpoint] == 1  # no retry


@pytest.mark.parametrize("outage", OUTAGES)
async def test_discovery_down_is_unavailable(
    client: httpx.AsyncClient, idp: FakeOidcProvider, outage: Any
) -> None:
    provider = adapter(client, idp, timeout=0.3)
    idp.down["discovery"] = outage

    started = time.monotonic()
    with pytest.raises(IdentityProviderUnavailable) as caught:
        await provider.authorization_url(state="s", nonce="n", code_challenge="c")

    assert time.monotonic() - started < 2
    assert isinstance(caught.value.__cause__, (httpx.HTTPError, ValueError))


async def test_a_jwks_outage_during_key_rotation_is_unavailable(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    provider = adapter(client, idp)
    await sign_in(client, provider)
    idp.rotate_keys()
    idp.down["jwks"] = "503"

    with pytest.raises(IdentityProviderUnavailable):
        await sign_in(client, provider)
    idp.down.clear()
    await sign_in(client, provider)


# -- the fake itself ------------------------------------------------------------------------


async def test_the_fake_can_deny_the_sign_in(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    idp.authorize_error = "access_denied"
    url = await adapter(client, idp).authorization_url(state="st", nonce="n", code_challenge="c")

    answer = await client.get(url)

    assert answer.status_code == 302
    assert parse_qs(urlsplit(answer.headers["location"]).query) == {
        "error": ["access_denied"],
        "state": ["st"],
    }


async def test_the_fake_refuses_an_unregistered_redirect_uri(
    client: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    provider = adapter(client, idp, redirect_uri="https://evil.example/callback")
    url = await provider.authorization_url(state="st", nonce="n", code_challenge="c")

    answer = await client.get(url)

    assert answer.status_code == 400
    assert "location" not in answer.headers
