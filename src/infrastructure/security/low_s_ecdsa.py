"""ES256 with one signature per message: low-S only (SEC1 §4.1.3 / BIP 62 "low S").

ECDSA is malleable: if (r, s) verifies, so does (r, n - s). joserfc and cryptography accept
both, so anyone holding one of our tokens could mint a second, different token string with
the same claims. RFC 8725 §2.1/§3.1 asks verifiers not to trust more than the algorithm
promises; we make the token string unique for its claims (our verified-token cache and any
log or denylist keyed by the string rely on that): we sign with s <= n/2 and refuse s > n/2.
"""

from __future__ import annotations

from joserfc.jwa import ESAlgorithm, JWSAlgModel
from joserfc.jwk import ECKey
from joserfc.jws import JWSRegistry

# Order of the P-256 group (SEC 2 §2.4.2 / FIPS 186-4 D.1.2.3).
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_HALF_ORDER = P256_ORDER // 2
_SIZE = 32


class LowSES256(ESAlgorithm):
    def __init__(self) -> None:
        super().__init__("ES256", "P-256", 256, recommended=True)

    def sign(self, msg: bytes, key: ECKey) -> bytes:
        signature = super().sign(msg, key)
        r, s = signature[:_SIZE], int.from_bytes(signature[_SIZE:], "big")
        if s > _HALF_ORDER:
            s = P256_ORDER - s
        return r + s.to_bytes(_SIZE, "big")

    def verify(self, msg: bytes, sig: bytes, key: ECKey) -> bool:
        if len(sig) != 2 * _SIZE or int.from_bytes(sig[_SIZE:], "big") > _HALF_ORDER:
            return False
        return super().verify(msg, sig, key)


class LowSRegistry(JWSRegistry):
    """ES256 only, low-S. A table of its own: joserfc's default one is class-wide, so
    registering there would change every other user of joserfc (OIDC ID tokens)."""

    def __init__(self) -> None:
        super().__init__(algorithms=["ES256"])
        self.algorithms: dict[str, JWSAlgModel] = {"ES256": LowSES256()}
        self.recommended = ["ES256"]
