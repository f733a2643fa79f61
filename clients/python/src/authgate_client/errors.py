"""What the client raises: authgate's problem details as exceptions."""

from __future__ import annotations

import httpx


class AuthgateError(Exception):
    """authgate refused a call; ``code`` is the stable code of its problem details."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail

    @classmethod
    def of(cls, response: httpx.Response) -> AuthgateError:
        """The problem details of a read response (RFC 9457), or what the status says."""
        try:
            problem = response.json()
        except ValueError:
            problem = None
        if not isinstance(problem, dict):
            problem = {}
        return cls(
            response.status_code,
            str(problem.get("code", f"http_{response.status_code}")),
            str(problem.get("detail", response.reason_phrase)),
        )


class SignedOut(AuthgateError):
    """The session is over (logged out, revoked, expired, or never signed in): the stored
    refresh token is gone; sign in again."""

    def __init__(self, code: str = "signed_out", detail: str = "Not signed in.") -> None:
        super().__init__(401, code, detail)
