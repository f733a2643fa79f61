"""``GET /auth/client.js``: the browser client (``static/authgate-client.js``), served by the
service so an app imports the very version its server speaks."""

from __future__ import annotations

from litestar import Response, get

from interfaces.http.assets import JAVASCRIPT, STATIC, Asset, IfNoneMatch

CLIENT_SCRIPT = Asset.read(STATIC / "authgate-client.js", JAVASCRIPT)
# Five minutes, like the JWKS: a new release reaches browsers soon, and after that a
# revalidation costs a 304.
CACHE_CONTROL = "public, max-age=300"


@get("/auth/client.js", include_in_schema=False, sync_to_thread=False)
def client_script(if_none_match: IfNoneMatch = None) -> Response[bytes]:
    return CLIENT_SCRIPT.response(if_none_match, CACHE_CONTROL)
