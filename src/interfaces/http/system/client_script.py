"""``GET /auth/client.js``: the browser client, served by the service so an app imports the
very version its server speaks. One file: the npm package @authgate/client's
(``clients/js/src/authgate-client.js``), which the wheel's build puts in ``static/``."""

from __future__ import annotations

from pathlib import Path

from litestar import Response, get

from interfaces.http.assets import JAVASCRIPT, STATIC, Asset, IfNoneMatch

NAME = "authgate-client.js"
# An installed service has the wheel's copy; a checkout (an editable install) the package's.
CHECKOUT = Path(__file__).resolve().parents[4] / "clients" / "js" / "src" / NAME
CLIENT_SCRIPT = Asset.read(STATIC / NAME if (STATIC / NAME).is_file() else CHECKOUT, JAVASCRIPT)
# Five minutes, like the JWKS: a new release reaches browsers soon, and after that a
# revalidation costs a 304.
CACHE_CONTROL = "public, max-age=300"


@get("/auth/client.js", include_in_schema=False, sync_to_thread=False)
def client_script(if_none_match: IfNoneMatch = None) -> Response[bytes]:
    return CLIENT_SCRIPT.response(if_none_match, CACHE_CONTROL)
