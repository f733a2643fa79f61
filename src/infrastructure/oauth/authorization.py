"""The authorization request the browser is sent with (RFC 6749 §4.1.1, RFC 9700 §2.1)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SCOPE = "openid email profile"


def authorization_url(
    endpoint: str,
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    nonce: str,
    code_challenge: str,
    max_age: int | None = None,
) -> str:
    """``endpoint`` with our parameters; a query it carries already is kept, except for
    the parameters we set ourselves (never sent twice)."""
    ours = {
        "response_type": "code",
        "scope": SCOPE,
        "client_id": client_id,
        # RFC 9700 §2.1: the exact registered redirect URI, compared verbatim.
        "redirect_uri": redirect_uri,
        "state": state,
        "nonce": nonce,
        # RFC 9700 §2.1.1: PKCE with S256, never "plain".
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    if max_age is not None:
        ours["max_age"] = str(max_age)
    parts = urlsplit(endpoint)
    kept = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key not in ours
    ]
    return urlunsplit(parts._replace(query=urlencode([*kept, *ours.items()])))
