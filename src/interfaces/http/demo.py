"""The demo app at ``/demo`` (``AUTH_DEMO=true``): plain HTML pages, the browser client and one
script of their own (``static/demo``), showing the whole flow in a browser.

Every page carries a strict Content-Security-Policy: scripts only from this origin (plus
Cloudflare's Turnstile when a site key is configured), no inline script or style, nothing
framed but the Turnstile widget, the page itself never framed (OWASP Content Security Policy
Cheat Sheet). The mailed links bring a token in the query string, so the pages send no
Referer anywhere (OWASP Forgot Password Cheat Sheet) and are never stored in a cache.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from string import Template

from litestar import Response, Router, get
from litestar.handlers import HTTPRouteHandler

from infrastructure.config import DEMO_PATH, Settings
from interfaces.http.assets import CSS, HTML, JAVASCRIPT, STATIC, Asset, IfNoneMatch

PAGES = STATIC / "demo"
TURNSTILE_ORIGIN = "https://challenges.cloudflare.com"
# Each page: its path under /demo and its file. The mail links name all but the first
# (Settings.mail_link: verify-email, reset-password, email-sign-in, secure-account,
# change-email).
ROUTES = {
    "/": "index.html",
    "/verify-email": "verify-email.html",
    "/reset-password": "reset-password.html",
    "/email-sign-in": "email-sign-in.html",
    "/secure-account": "secure-account.html",
    "/change-email": "change-email.html",
}
# Each asset: its path under /demo and its file. The QR encoder draws the authenticator-app
# link in the page itself: the secret in it never goes to another service.
ASSETS = {
    "demo.js": (PAGES / "demo.js", JAVASCRIPT),
    "ui.js": (PAGES / "ui.js", JAVASCRIPT),
    "second-factor.js": (PAGES / "second-factor.js", JAVASCRIPT),
    "account.js": (PAGES / "account.js", JAVASCRIPT),
    "demo.css": (PAGES / "demo.css", CSS),
    "qrcode.mjs": (STATIC / "qrcode-generator" / "qrcode.mjs", JAVASCRIPT),
}
ASSET_CACHE = "no-cache"


def demo_router(settings: Settings) -> Router:
    headers = page_headers(settings)
    pages = [_page(path, _render(PAGES / name, settings), headers) for path, name in ROUTES.items()]
    assets = [_asset(name, Asset.read(path, media)) for name, (path, media) in ASSETS.items()]
    return Router(DEMO_PATH, route_handlers=[*pages, *assets], include_in_schema=False)


def content_security_policy(settings: Settings) -> str:
    turnstile = f" {TURNSTILE_ORIGIN}" if settings.turnstile_site_key else ""
    frames = TURNSTILE_ORIGIN if settings.turnstile_site_key else "'none'"
    return (
        "default-src 'none'; "
        f"script-src 'self'{turnstile}; "
        "style-src 'self'; "
        "img-src 'self' data:; "
        "connect-src 'self'; "
        f"frame-src {frames}; "
        "form-action 'self'; "
        "base-uri 'none'; "
        "frame-ancestors 'none'"
    )


def page_headers(settings: Settings) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(settings),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def _render(path: Path, settings: Settings) -> bytes:
    """The page with what the script needs to know, as attributes: the Turnstile site key, the
    configured identity providers and the origins passkeys work on (all public)."""
    values = {
        "turnstile_site_key": settings.turnstile_site_key or "",
        "providers": " ".join(p.name for p in settings.oidc_providers),
        "passkey_origins": " ".join(settings.rp_origins),
        "product_name": settings.product_name,
        "email_signin": "true" if settings.email_signin else "false",
    }
    escaped = {name: escape(value, quote=True) for name, value in values.items()}
    return Template(path.read_text()).substitute(escaped).encode()


def _page(path: str, html: bytes, headers: dict[str, str]) -> HTTPRouteHandler:
    @get(path, sync_to_thread=False, name=f"demo:{path}")
    def page() -> Response[bytes]:
        return Response(html, media_type=HTML, headers=headers)

    return page


def _asset(name: str, asset: Asset) -> HTTPRouteHandler:
    @get(f"/{name}", sync_to_thread=False, name=f"demo:{name}")
    def serve(if_none_match: IfNoneMatch = None) -> Response[bytes]:
        return asset.response(if_none_match, ASSET_CACHE)

    return serve
