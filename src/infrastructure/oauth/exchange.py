"""The code exchange at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.5)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from domain.errors import IdentityProviderError, IdentityProviderUnavailable
from infrastructure.oauth.id_token import INVALID_ID_TOKEN
from infrastructure.oauth.transport import ProviderHttp

# RFC 6749 §5.2: the "error" value is drawn from %x20-21 / %x23-5B / %x5D-7E.
_OAUTH_ERROR = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,128}")
_WHAT = "token endpoint"

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientRegistration:
    client_id: str
    client_secret: str
    redirect_uri: str


async def exchange_code(
    http: ProviderHttp,
    token_endpoint: str,
    registration: ClientRegistration,
    *,
    code: str,
    code_verifier: str,
) -> str:
    """The ID token the provider gives for ``code``.

    A refusal (a 4xx with an RFC 6749 §5.2 ``error``) is ``IdentityProviderError`` carrying
    the provider's code as it was sent: what it means for the person signing in is decided
    in one place, ``domain.ports.identity.refusal``.
    """
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": registration.redirect_uri,
        "client_id": registration.client_id,
        "client_secret": registration.client_secret,
        # RFC 9700 §2.1.1: the PKCE verifier binds the code to the session that asked.
        "code_verifier": code_verifier,
    }
    response = await http.post_form(_WHAT, token_endpoint, form)
    try:
        body: Any = response.json()
    except ValueError as exc:
        _log.warning("%s %s answered %s, not JSON", http.name, _WHAT, response.status_code)
        raise IdentityProviderUnavailable() from exc
    if response.is_client_error:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, str) and _OAUTH_ERROR.fullmatch(error):
            _log.info("%s refused the code: %s", http.name, error)
            raise IdentityProviderError(error)
    if not response.is_success or not isinstance(body, dict):
        http.failed(_WHAT, response)
    id_token = body.get("id_token")
    if not isinstance(id_token, str):
        _log.warning("%s token response carries no id_token", http.name)
        raise IdentityProviderError(INVALID_ID_TOKEN)
    return id_token
