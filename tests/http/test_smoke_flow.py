from tests.http.helpers import bearer, register


async def test_register_then_me(client):
    body = await register(client)
    me = await client.get("/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["user"]["email"] == "user@site.com"
