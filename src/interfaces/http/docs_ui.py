"""The API docs UI, served by the service itself so ``/schema`` renders with no internet.

Swagger UI 5.32.0 (``swagger-ui-dist`` from npm, Apache-2.0; LICENSE, NOTICE and the bundled
third-party notices beside it) is vendored under ``static/swagger-ui``: only the bundle, the
standalone preset, the stylesheet and a favicon. Version 5 renders OpenAPI 3.1, which
Litestar writes; the PyPI ``swagger-ui-bundle`` ships 4.15 (OpenAPI 3.0 only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Response, Router
from litestar.datastructures import ResponseHeader
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

SCHEMA_PATH = "/schema"
ASSETS_PATH = f"{SCHEMA_PATH}/assets"
SWAGGER_UI_VERSION = "5.32.0"
ASSETS = Path(__file__).parent / "static" / "swagger-ui"
# The docs may not be framed (clickjacking, OWASP ASVS 5.0 V3.4.6), sniffed or leak their
# address; Swagger UI starts from an inline script, hence 'unsafe-inline' for scripts only
# from this page (nothing on it takes input from anywhere but the schema).
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def docs_router() -> Router:
    """Where the OpenAPI document and its UI live; the UI's assets are served under it."""
    assets = create_static_files_router(
        path="/assets",
        directories=[ASSETS],
        include_in_schema=False,
    )
    return Router(
        SCHEMA_PATH,
        route_handlers=[assets],
        include_in_schema=False,
        response_headers=[ResponseHeader(name=k, value=v) for k, v in HEADERS.items()],
        after_request=_not_found_as_problem,
    )


def _not_found_as_problem(response: Response[Any]) -> Response[Any]:
    """Litestar's OpenAPI router answers an unknown path under it with a page of HTML: a
    404 as every other one here, problem details (the code ``not_found``)."""
    if response.status_code == 404 and response.media_type == MediaType.HTML:
        raise NotFoundException()
    return response


def swagger_ui() -> SwaggerRenderPlugin:
    """Swagger UI at ``/schema`` and ``/schema/swagger``: it has the Authorize button that
    fills in the bearer token for every operation that takes one."""
    asset = f"{ASSETS_PATH}/{{}}?v={SWAGGER_UI_VERSION}".format
    return SwaggerRenderPlugin(
        path=["/", "/swagger"],
        js_url=asset("swagger-ui-bundle.js"),
        css_url=asset("swagger-ui.css"),
        standalone_preset_js_url=asset("swagger-ui-standalone-preset.js"),
        favicon=f"<link rel='icon' type='image/png' href='{asset('favicon-32x32.png')}'>",
    )
