"""A Python client for authgate: ``AuthgateAuth`` signs httpx requests and refreshes the
session; the refresh token is kept by a ``RefreshTokenStorage`` of the caller's choice.

Depends on httpx only. Resource servers verifying authgate's tokens offline import
``authgate_client.resource``, which needs joserfc as well. Nothing of the service itself.
"""

from authgate_client.auth import AuthgateAuth, StepUpChallenge, StepUpHook
from authgate_client.errors import AuthgateError, SignedOut
from authgate_client.storage import FileStorage, MemoryStorage, RefreshTokenStorage

__all__ = [
    "AuthgateAuth",
    "AuthgateError",
    "FileStorage",
    "MemoryStorage",
    "RefreshTokenStorage",
    "SignedOut",
    "StepUpChallenge",
    "StepUpHook",
]
