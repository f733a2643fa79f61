"""Health probes, the published JWKS and the OpenAPI documents."""

from __future__ import annotations

import json

from infrastructure.security.keys import new_signing_key
from tests.http.helpers import jwt_parts, register

AUTH_PATHS = {
    "/auth/register",
    "/auth/login",
    "/auth/refresh",
    "/auth/me",
    "/auth/logout",
    "/auth/revoke",
    "/auth/sessions",
}
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}


async def test_live_answers_200(client):
    response = await client.get("/health/live")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"


async def test_ready_answers_200_with_a_check_per_backend(client):
    response = await client.get("/health/ready")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]
    assert "database" in body["checks"]
    assert set(body["checks"].values()) == {"ok"}


async def test_jwks_publishes_the_public_signing_key_only(client):
    response = await client.get("/.well-known/jwks.json")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/")
    jwks = response.json()
    assert set(jwks) == {"keys"}
    assert len(jwks["keys"]) >= 1
    for key in jwks["keys"]:
        assert not PRIVATE_MEMBERS & set(key), key
        assert key["kty"] == "EC"
        assert key["crv"] == "P-256"
        assert key["x"]
        assert key["y"]
        assert key["kid"]
        assert key.get("alg", "ES256") == "ES256"
        assert key.get("use", "sig") == "sig"


async def test_jwks_kid_matches_the_access_tokens_kid(client):
    body = await register(client)

    jwks = (await client.get("/.well-known/jwks.json")).json()

    kid = jwt_parts(body["access_token"])[0]["kid"]
    assert kid in [k["kid"] for k in jwks["keys"]]


async def test_openapi_json_is_openapi_3_1_and_lists_every_auth_path(client):
    response = await client.get("/schema/openapi.json")

    assert response.status_code == 200, response.text
    document = response.json()
    assert document["openapi"].startswith("3.1")
    paths = set(document["paths"])
    assert paths >= AUTH_PATHS, sorted(paths)
    assert any(p.startswith("/auth/sessions/{") for p in paths), sorted(paths)
    assert document["paths"]["/auth/refresh"].keys() & {"post"}
    assert "get" not in document["paths"]["/auth/refresh"]


async def test_schema_serves_html_docs(client):
    response = await client.get("/schema")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()


async def test_an_unknown_path_answers_404_as_a_problem(client):
    response = await client.get("/auth/nope")

    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"]


async def test_a_rotated_in_signing_key_signs_while_the_old_one_still_verifies(
    client, make_client, settings
):
    """Key rotation: put a new key first in AUTH_KEYS_FILE; both are published and accepted."""
    old = await register(client)
    old_kid = jwt_parts(old["access_token"])[0]["kid"]
    content = json.loads(settings.keys_file.read_text())
    content["keys"]["keys"].insert(0, new_signing_key())
    settings.keys_file.write_text(json.dumps(content))

    async with make_client() as restarted:
        published = {
            k["kid"] for k in (await restarted.get("/.well-known/jwks.json")).json()["keys"]
        }
        me = await restarted.get(
            "/auth/me", headers={"Authorization": f"Bearer {old['access_token']}"}
        )
        fresh = await restarted.post(
            "/auth/login", json={"email": "user@site.com", "password": "secret123"}
        )

    assert me.status_code == 200
    new_kid = jwt_parts(fresh.json()["access_token"])[0]["kid"]
    assert new_kid != old_kid
    assert published == {old_kid, new_kid}
