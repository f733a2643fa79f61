"""Access tokens: the RFC 9068 shape we issue, and every forgery RFC 8725 warns about.

Each forgery is a variant of a real token; ``test_a_token_re_signed_with_the_real_key_...``
is the control that shows a correctly re-signed variant *is* accepted, so every rejection
below is for the one thing the variant changed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from infrastructure.security.low_s_ecdsa import LowSRegistry
from tests.http.helpers import (
    ACCESS_TTL,
    BASE_URL,
    assert_access_rejected,
    assert_access_works,
    b64encode,
    bearer,
    jwt_parts,
    register,
)

HEADER_KEYS = {"alg", "typ", "kid"}
CLAIMS = {"iss", "aud", "sub", "sid", "jti", "iat", "exp", "role"}


@pytest.fixture
async def issued(client) -> dict[str, Any]:
    """A real token, its user, and its header and claims."""
    body = await register(client)
    header, claims = jwt_parts(body["access_token"])
    return {"token": body["access_token"], "user": body["user"], "header": header, "claims": claims}


@pytest.fixture
def service_key(settings, issued) -> ECKey:
    """The service's own private signing key, read from AUTH_KEYS_FILE."""
    data = json.loads(settings.keys_file.read_text())
    key = KeySet.import_key_set(data["keys"]).keys[0]
    assert isinstance(key, ECKey)  # the service signs with ES256
    assert key.kid == issued["header"]["kid"]
    return key


def sign(key: ECKey, header: dict[str, Any], claims: dict[str, Any]) -> str:
    # Low-S as the service signs: a high-S twin is refused (tests/unit/test_access_tokens.py).
    return jwt.encode(header, claims, key, algorithms=["ES256"], registry=LowSRegistry())


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    head = b64encode(json.dumps(header).encode())
    body = b64encode(json.dumps(claims).encode())
    return f"{head}.{body}.{b64encode(signature)}"


def hs256(secret: bytes, header: dict[str, Any], claims: dict[str, Any]) -> str:
    head = b64encode(json.dumps(header).encode())
    body = b64encode(json.dumps(claims).encode())
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64encode(mac)}"


# --- What we issue -------------------------------------------------------------------------


async def test_an_access_token_has_the_es256_at_jwt_header_and_verifies_against_the_jwks(
    issued, client
):
    header = issued["header"]
    jwks = (await client.get("/.well-known/jwks.json")).json()

    assert set(header) == HEADER_KEYS
    assert header["alg"] == "ES256"
    assert header["typ"] == "at+jwt"
    assert header["kid"] in [k["kid"] for k in jwks["keys"]]
    decoded = jwt.decode(issued["token"], KeySet.import_key_set(jwks), algorithms=["ES256"])
    assert decoded.claims == issued["claims"]


async def test_an_access_token_carries_the_spec_claims(client, issued, settings, clock):
    claims = issued["claims"]

    assert set(claims) >= CLAIMS
    assert claims["iss"] == BASE_URL == settings.issuer
    assert claims["aud"] == settings.audience == "authgate"
    assert claims["sub"] == str(issued["user"]["id"])
    assert isinstance(claims["sid"], str)
    assert claims["sid"]
    assert isinstance(claims["jti"], str)
    assert claims["jti"]
    assert claims["iat"] == int(clock.now().timestamp())
    assert claims["exp"] == claims["iat"] + ACCESS_TTL
    assert claims["role"] == "user"
    refreshed = await client.post("/auth/refresh")
    assert jwt_parts(refreshed.json()["access_token"])[1]["jti"] != claims["jti"]


async def test_a_token_re_signed_with_the_real_key_and_the_same_claims_is_accepted(
    client, issued, service_key
):
    token = sign(service_key, issued["header"], issued["claims"])

    await assert_access_works(client, token)


# --- Forgeries -----------------------------------------------------------------------------


async def test_an_alg_none_token_is_rejected(client, issued):
    for alg in ("none", "None", "NONE"):
        token = unsigned({**issued["header"], "alg": alg}, issued["claims"])
        await assert_access_rejected(client, token)


async def test_a_token_with_a_tampered_payload_or_signature_is_rejected(client, issued):
    header, payload, signature = issued["token"].split(".")
    other_user = {**issued["claims"], "sub": str(issued["user"]["id"] + 1), "role": "admin"}
    tampered = b64encode(json.dumps(other_user).encode())

    await assert_access_rejected(client, f"{header}.{tampered}.{signature}")
    await assert_access_rejected(client, f"{header}.{payload}.{signature[:-4]}")
    await assert_access_rejected(client, f"{header}.{payload}.")
    await assert_access_rejected(client, f"{header}.{payload}")


async def test_a_real_key_signed_token_with_a_wrong_aud_iss_exp_or_sub_is_rejected(
    client, issued, service_key
):
    changes: list[dict[str, Any]] = [
        {"aud": "another-service"},
        {"aud": ["another-service"]},
        {"iss": "https://evil.example"},
        {"iss": BASE_URL + "/"},
        {"exp": "never"},
        {"sub": "not-a-number"},
    ]
    for change in changes:
        token = sign(service_key, issued["header"], {**issued["claims"], **change})

        await assert_access_rejected(client, token)


async def test_a_real_key_signed_token_missing_exp_iss_aud_sub_or_sid_is_rejected(
    client, issued, service_key
):
    for claim in ["exp", "iss", "aud", "sub", "sid"]:
        claims = {k: v for k, v in issued["claims"].items() if k != claim}

        await assert_access_rejected(client, sign(service_key, issued["header"], claims))


async def test_a_real_key_signed_token_that_expired_is_rejected(client, issued, service_key):
    claims = {**issued["claims"], "iat": issued["claims"]["iat"] - 1000}
    claims["exp"] = claims["iat"] + ACCESS_TTL

    await assert_access_rejected(client, sign(service_key, issued["header"], claims))


async def test_a_token_signed_by_an_unknown_key_is_rejected(client, issued):
    stranger = ECKey.generate_key("P-256", {"kid": "someone-else"}, private=True)
    other_kid = {**issued["header"], "kid": "someone-else"}

    await assert_access_rejected(client, sign(stranger, other_kid, issued["claims"]))
    # ...also when it claims to be our key.
    await assert_access_rejected(client, sign(stranger, issued["header"], issued["claims"]))


async def test_a_real_key_signed_token_without_a_kid_is_rejected(client, issued, service_key):
    header = {"alg": "ES256", "typ": "at+jwt"}

    await assert_access_rejected(client, sign(service_key, header, issued["claims"]))


async def test_an_hs256_token_keyed_with_the_public_key_is_rejected(client, issued, service_key):
    """Algorithm confusion: HMAC keyed with what a verifier might treat as a shared secret."""
    header = {**issued["header"], "alg": "HS256"}
    public_jwk = service_key.as_dict(private=False)
    secrets = [
        service_key.as_pem(private=False),
        json.dumps(public_jwk).encode(),
        json.dumps(public_jwk, separators=(",", ":")).encode(),
        (await client.get("/.well-known/jwks.json")).content,
    ]

    for secret in secrets:
        await assert_access_rejected(client, hs256(secret, header, issued["claims"]))


async def test_a_token_pointing_at_other_keys_with_jku_x5u_or_jwk_is_rejected(
    client, issued, service_key
):
    for param in ["jku", "x5u"]:
        header = {**issued["header"], param: "https://evil.example/keys.json"}

        await assert_access_rejected(client, sign(service_key, header, issued["claims"]))

    stranger = ECKey.generate_key("P-256", private=True)
    embedded_stranger = {"alg": "ES256", "typ": "at+jwt", "jwk": stranger.as_dict(private=False)}
    embedded_real = {**issued["header"], "jwk": service_key.as_dict(private=False)}

    await assert_access_rejected(client, sign(stranger, embedded_stranger, issued["claims"]))
    await assert_access_rejected(client, sign(service_key, embedded_real, issued["claims"]))


async def test_a_real_key_signed_token_typed_jwt_instead_of_at_jwt_is_rejected(
    client, issued, service_key
):
    for typ in ["JWT", "jwt", "at+JWT", "application/at+jwt", None]:
        header = {k: v for k, v in issued["header"].items() if k != "typ"}
        if typ is not None:
            header["typ"] = typ

        await assert_access_rejected(client, sign(service_key, header, issued["claims"]))


async def test_a_request_with_two_authorization_lines_is_refused_whichever_comes_first(
    concurrent_client: Any,
) -> None:
    """Authorization is no list (RFC 9110 §11.6.2): the first line signed in, while a proxy
    or firewall reading the last judged another credential. RFC 6750 §3.1: 400
    ``invalid_request``. (``concurrent_client`` hands the app each line as its own, as
    granian does; the test client folds them into one.)"""
    async with concurrent_client() as client:
        token = (await register(client))["access_token"]
        for lines in (
            [("authorization", f"Bearer {token}"), ("authorization", "Bearer forged")],
            [("authorization", "Bearer forged"), ("authorization", f"Bearer {token}")],
        ):
            refused = await client.get("/auth/me", headers=lines)
            assert refused.status_code == 400, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.json()["code"] == "invalid_request"
        assert (await client.get("/auth/me", headers=bearer(token))).status_code == 200
