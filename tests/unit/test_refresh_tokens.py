"""Refresh tokens name their session and generation under a MAC."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable

import pytest

from domain.ports import GenuineRefreshToken
from infrastructure.security.refresh_tokens import MAX_GENERATION, MAX_LENGTH, HmacRefreshTokens

SECRET = b"s" * 32
TOKENS = HmacRefreshTokens(SECRET)


def minted(session_id: str, generation: str, secret: bytes = SECRET) -> str:
    """A token of the current format with a MAC over ``generation`` as spelled: tag =
    HMAC-SHA256(secret, "authgate refresh tag v3" NUL || sid || "." || generation || nonce)."""
    nonce = secrets.token_bytes(32)
    message = b"authgate refresh tag v3\x00" + f"{session_id}.{generation}".encode() + nonce
    tag = hmac.new(secret, message, hashlib.sha256).digest()[:16]
    body = base64.urlsafe_b64encode(nonce + tag).rstrip(b"=").decode()
    return f"{session_id}.{generation}.{body}"


def with_generation(token: str, generation: str) -> str:
    session_id, _, body = token.split(".")
    return f"{session_id}.{generation}.{body}"


def test_a_new_token_names_its_session_and_generation_0_with_256_bits_of_nonce() -> None:
    token = TOKENS.new("sess-1")

    session_id, generation, body = token.split(".")
    assert (session_id, generation) == ("sess-1", "0")
    assert len(base64.urlsafe_b64decode(body)) == 32 + 16
    assert TOKENS.read(token) == GenuineRefreshToken("sess-1", 0)
    assert TOKENS.new("sess-1") != token


def test_each_successor_is_the_same_every_time_and_one_generation_on() -> None:
    token = TOKENS.new("sess-1")

    successor = TOKENS.successor(token)
    third = TOKENS.successor(successor)

    assert successor == TOKENS.successor(token)
    assert successor != token
    assert TOKENS.read(successor) == GenuineRefreshToken("sess-1", 1)
    assert TOKENS.read(third) == GenuineRefreshToken("sess-1", 2)
    assert third.startswith("sess-1.2.")


def test_a_session_id_with_dots_is_read_whole() -> None:
    token = TOKENS.new("sess.7")

    assert TOKENS.read(token) == GenuineRefreshToken("sess.7", 0)
    assert TOKENS.read(TOKENS.successor(token)) == GenuineRefreshToken("sess.7", 1)


def test_a_token_that_is_not_genuine_has_no_successor() -> None:
    with pytest.raises(ValueError, match="genuine"):
        TOKENS.successor(HmacRefreshTokens(b"o" * 32).new("sess-1"))


def test_an_overlong_token_is_not_read() -> None:
    """Nothing of ours is that long, so no MAC is computed over it."""
    token = TOKENS.new("s" * (MAX_LENGTH - 67))
    assert len(token) == MAX_LENGTH
    assert TOKENS.read(token) is not None
    assert TOKENS.read(TOKENS.new("s" * (MAX_LENGTH - 66))) is None


@pytest.mark.parametrize(
    "change",
    [
        lambda t: "sess-2" + t[len("sess-1") :],  # another session's name on this MAC
        lambda t: with_generation(t, "1"),  # another generation on this MAC
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # a bit of the tag flipped
        lambda t: t + "A",
        lambda t: t.replace(".", ""),
        lambda t: t.replace(".0.", ".", 1),  # no generation
        lambda t: t.split(".")[0] + ".0." + "!" * 64,
        lambda t: t.replace("-", "+").replace("_", "/"),  # base64, not base64url
        lambda t: HmacRefreshTokens(b"o" * 32).new("sess-1"),  # another secret
    ],
    ids=[
        "other-session",
        "other-generation",
        "flipped-tag",
        "longer",
        "no-dot",
        "no-generation",
        "not-base64",
        "not-base64url",
        "other-secret",
    ],
)
def test_a_token_whose_mac_fails_names_no_session(change: Callable[[str], str]) -> None:
    token = TOKENS.new("sess-1")
    while "-" not in token.split(".")[2] and "_" not in token.split(".")[2]:
        token = TOKENS.new("sess-1")  # so the base64url case changes something
    assert TOKENS.read(change(token)) is None


@pytest.mark.parametrize(
    "generation", ["00", "01", "+1", "-1", " 1", "1 ", "\u0661", "1_0", "", str(MAX_GENERATION + 1)]
)
def test_a_generation_is_read_in_its_one_decimal_spelling_only(generation: str) -> None:
    """No leading zeros, signs, spaces, other digits or huge numbers, even under a MAC."""
    assert TOKENS.read(minted("sess-1", generation)) is None


@pytest.mark.parametrize("generation", [0, 7, 10, 12345, MAX_GENERATION])
def test_a_token_minted_as_documented_is_read_up_to_the_largest_generation(
    generation: int,
) -> None:
    token = minted("sess-1", str(generation))
    assert TOKENS.read(token) == GenuineRefreshToken("sess-1", generation)
    assert TOKENS.read(minted("sess-1", str(generation), b"o" * 32)) is None
    successor = TOKENS.successor(token)
    assert TOKENS.read(successor) == (
        None if generation == MAX_GENERATION else GenuineRefreshToken("sess-1", generation + 1)
    )


def test_the_digest_is_sha256_hex_of_the_whole_token() -> None:
    assert TOKENS.digest("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
