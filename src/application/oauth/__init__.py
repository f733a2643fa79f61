"""Sign-in with an OpenID Connect provider: the authorization code flow with PKCE.

RFC 9700 (OAuth 2.0 Security Best Current Practice) decides the shape: a single-use
``state`` kept server-side and bound to the browser that asked (§4.7.1), PKCE with S256
(§2.1.1), a ``nonce`` (§4.5.3), a state good only at the provider it was issued for
(§4.4, mix-up), and a ``return_to`` checked against an allowlist so the callback never
becomes an open redirector (§4.11; OWASP Unvalidated Redirects and Forwards Cheat Sheet).
"""

from application.oauth.attempts import STATE_TTL, s256
from application.oauth.complete import (
    CompleteOAuth,
    CompleteOAuthCommand,
    OAuthSecondStep,
    OAuthSignedIn,
)
from application.oauth.return_to import allowed_return_to
from application.oauth.start import OAuthStarted, StartOAuth, StartOAuthCommand

__all__ = [
    "STATE_TTL",
    "CompleteOAuth",
    "CompleteOAuthCommand",
    "OAuthSecondStep",
    "OAuthSignedIn",
    "OAuthStarted",
    "StartOAuth",
    "StartOAuthCommand",
    "allowed_return_to",
    "s256",
]
