"""Refresh tokens name their session and generation under a MAC; the two-part tokens from
before generations are still read (generation unknown); legacy opaque ones are told apart."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable

import pytest

from domain.ports import GenuineRefreshToken
from infrastructure.security.refresh_tokens import MAX_GENERATION, HmacRefreshTokens

SECRET = b"s" * 32
TOKENS = HmacRefreshTokens(SECRET)


def two_part(session_id: str, secret: bytes = SECRET) -> str:
    """A token as issued before generations: ``<sid>.<b64url(nonce || tag)>``, its tag
    HMAC-SHA256(secret, "authgate refresh tag v2" NUL || sid || nonce)[:16]."""
    nonce = secrets.token_bytes(32)
    message = b"authgate refresh tag v2\x00" + session_id.encode() + nonce
    tag = hmac.new(secret, message, hashlib.sha256).digest()[:16]
    return f"{session_id}.{base64.urlsafe_b64encode(nonce + tag).rstrip(b'=').decode()}"


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
    assert not TOKENS.is_legacy(token)


def test_each_successor_is_the_same_every_time_and_one_generation_on() -> None:
    token = TOKENS.new("sess-1")

    successor = TOKENS.successor(token, "sess-1")
    third = TOKENS.successor(successor, "sess-1")

    assert successor == TOKENS.successor(token, "sess-1")
    assert successor != token
    assert TOKENS.read(successor) == GenuineRefreshToken("sess-1", 1)
    assert TOKENS.read(third) == GenuineRefreshToken("sess-1", 2)
    assert third.startswith("sess-1.2.")


def test_a_two_part_token_from_before_generations_is_read_with_generation_unknown() -> None:
    token = two_part("sess-1")

    assert TOKENS.read(token) == GenuineRefreshToken("sess-1", None)
    assert not TOKENS.is_legacy(token)
    successor = TOKENS.successor(token, "sess-1")
    assert TOKENS.read(successor) == GenuineRefreshToken("sess-1", 1)
    assert TOKENS.read(two_part("sess-1", b"o" * 32)) is None  # another secret


def test_the_formats_tags_cannot_pass_for_each_other() -> None:
    """A two-part tag does not make a three-part token, nor the other way round."""
    old, new = two_part("sess-1"), TOKENS.new("sess-1")

    assert TOKENS.read(old.replace(".", ".0.", 1)) is None
    assert TOKENS.read(new.replace(".0.", ".", 1)) is None
    # A session id that itself ends in ".<digits>": the two-part reading still holds.
    dotted = two_part("sess.7")
    assert TOKENS.read(dotted) == GenuineRefreshToken("sess.7", None)


def test_a_legacy_token_is_recognised_and_gets_a_successor_of_generation_1() -> None:
    legacy = secrets.token_urlsafe(32)

    assert TOKENS.is_legacy(legacy)
    assert TOKENS.read(legacy) is None
    assert TOKENS.read(TOKENS.successor(legacy, "sess-9")) == GenuineRefreshToken("sess-9", 1)


@pytest.mark.parametrize(
    "change",
    [
        lambda t: "sess-2" + t[len("sess-1") :],  # another session's name on this MAC
        lambda t: with_generation(t, "1"),  # another generation on this MAC
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # a bit of the tag flipped
        lambda t: t + "A",
        lambda t: t.replace(".", ""),
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
    successor = TOKENS.successor(token, "sess-1")
    assert TOKENS.read(successor) == (
        None if generation == MAX_GENERATION else GenuineRefreshToken("sess-1", generation + 1)
    )


def test_the_digest_is_sha256_hex_of_the_whole_token_as_before() -> None:
    assert TOKENS.digest("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
