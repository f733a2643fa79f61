"""Refresh tokens name their session under a MAC; legacy opaque ones are told apart."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable

import pytest

from infrastructure.security.refresh_tokens import HmacRefreshTokens

TOKENS = HmacRefreshTokens(b"s" * 32)


def test_a_new_token_names_its_session_and_carries_256_bits_of_nonce_and_a_tag() -> None:
    token = TOKENS.new("sess-1")

    session_id, body = token.split(".")
    assert session_id == "sess-1"
    assert len(base64.urlsafe_b64decode(body)) == 32 + 16
    assert TOKENS.session_id(token) == "sess-1"
    assert TOKENS.new("sess-1") != token
    assert not TOKENS.is_legacy(token)


def test_the_successor_is_the_same_every_time_and_names_the_same_session() -> None:
    token = TOKENS.new("sess-1")

    successor = TOKENS.successor(token, "sess-1")

    assert successor == TOKENS.successor(token, "sess-1")
    assert successor != token
    assert TOKENS.session_id(successor) == "sess-1"


def test_a_legacy_token_is_recognised_and_gets_a_successor_of_the_new_format() -> None:
    legacy = secrets.token_urlsafe(32)

    assert TOKENS.is_legacy(legacy)
    assert TOKENS.session_id(legacy) is None
    assert TOKENS.session_id(TOKENS.successor(legacy, "sess-9")) == "sess-9"


@pytest.mark.parametrize(
    "change",
    [
        lambda t: "sess-2" + t[len("sess-1") :],  # another session's name on this MAC
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # a bit of the tag flipped
        lambda t: t + "A",
        lambda t: t.replace(".", ""),
        lambda t: t.split(".")[0] + "." + "!" * 64,
        lambda t: HmacRefreshTokens(b"o" * 32).new("sess-1"),  # another secret
    ],
    ids=["other-session", "flipped-tag", "longer", "no-dot", "not-base64", "other-secret"],
)
def test_a_token_whose_mac_fails_names_no_session(change: Callable[[str], str]) -> None:
    token = TOKENS.new("sess-1")
    assert TOKENS.session_id(change(token)) is None


def test_the_digest_is_sha256_hex_of_the_whole_token_as_before() -> None:
    assert TOKENS.digest("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
