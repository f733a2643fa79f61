"""The pure-CPU second-factor adapters: RFC 6238 codes, the sealed-secret box, recovery codes
as people read them."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from application.mfa import codes
from domain.errors import StorageUnavailable
from infrastructure.security.secret_box import AesGcmSecretBox
from infrastructure.security.totp import PyOtpPasswords

# RFC 6238 Appendix B: the SHA-1 seed "12345678901234567890"; the 8-digit codes there end in
# these 6 digits (RFC 4226 §5.3 truncation keeps the low digits).
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [
    (59, "287082"),
    (1111111109, "081804"),
    (1111111111, "050471"),
    (1234567890, "005924"),
    (2000000000, "279037"),
]


@pytest.mark.parametrize(("unix_time", "code"), RFC_VECTORS)
def test_codes_are_those_of_rfc_6238_appendix_b(unix_time: int, code: str) -> None:
    at = datetime.fromtimestamp(unix_time, UTC)
    assert PyOtpPasswords().matching_step(RFC_SECRET, code, at, 0) == unix_time // 30


@pytest.mark.parametrize(
    ("offset", "matches"), [(-2, False), (-1, True), (0, True), (1, True), (2, False)]
)
def test_one_step_of_skew_either_way_matches_and_two_do_not(offset: int, matches: bool) -> None:
    at = datetime.fromtimestamp(1111111111, UTC)
    code = pyotp.TOTP(RFC_SECRET).at(at + timedelta(seconds=30 * offset))
    step = PyOtpPasswords().matching_step(RFC_SECRET, code, at, 1)
    assert step == (1111111111 // 30 + offset if matches else None)


def test_a_new_secret_is_160_random_bits_and_its_uri_names_the_account() -> None:
    otp = PyOtpPasswords()
    secret = otp.new_secret()
    assert len(base64.b32decode(secret)) == 20
    assert secret != otp.new_secret()
    uri = otp.provisioning_uri(secret, account="ada@example.test", issuer="authgate")
    assert uri.startswith("otpauth://totp/authgate:ada%40example.test?")
    assert f"secret={secret}" in uri
    assert "issuer=authgate" in uri


def test_a_sealed_secret_opens_only_with_its_key_and_its_context() -> None:
    box = AesGcmSecretBox(b"k" * 32)
    sealed = box.seal("JBSWY3DPEHPK3PXP", "totp:1")
    assert "JBSWY3DPEHPK3PXP" not in sealed
    assert sealed != box.seal("JBSWY3DPEHPK3PXP", "totp:1")  # a fresh nonce each time
    assert box.open(sealed, "totp:1") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(StorageUnavailable):
        box.open(sealed, "totp:2")  # copied onto another user's row
    with pytest.raises(StorageUnavailable):
        AesGcmSecretBox(b"o" * 32).open(sealed, "totp:1")
    # One bit of the ciphertext flipped (in the bytes: a base64 character next to the
    # padding may carry bits the decoder ignores, which would make a flaky test).
    version, _, encoded = sealed.partition(".")
    raw = bytearray(base64.urlsafe_b64decode(encoded))
    raw[-1] ^= 1
    tampered = f"{version}.{base64.urlsafe_b64encode(bytes(raw)).decode()}"
    with pytest.raises(StorageUnavailable):
        box.open(tampered, "totp:1")
    with pytest.raises(StorageUnavailable):
        box.open("not sealed", "totp:1")


def test_digests_are_keyed() -> None:
    box = AesGcmSecretBox(b"k" * 32)
    assert box.digest("abc") == box.digest("abc")
    assert box.digest("abc") != box.digest("abd")
    assert box.digest("abc") != AesGcmSecretBox(b"o" * 32).digest("abc")


def test_recovery_codes_are_ten_distinct_50_bit_codes_in_two_groups() -> None:
    shown = codes.new_recovery_codes()
    assert len(shown) == len(set(shown)) == 10
    for code in shown:
        first, second = code.split("-")
        assert len(first) == len(second) == 5
        assert set(first + second) <= set(codes.ALPHABET)
    assert len(codes.ALPHABET) ** codes.SYMBOLS >= 2**50


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("7hq2m-x4k9d", "7hq2mx4k9d"),
        ("7HQ2M X4K9D", "7hq2mx4k9d"),
        (" 7hq2mx4k9d ", "7hq2mx4k9d"),
        ("ohq2m-x4k9l", "0hq2mx4k91"),  # Crockford's look-alikes
        ("7hq2m-x4k9", None),
        ("7hq2m-x4k9du", None),  # u is no symbol
        ("7" * 100, None),
    ],
)
def test_recovery_codes_are_read_leniently(typed: str, read: str | None) -> None:
    assert codes.recovery_code(typed) == read


@pytest.mark.parametrize(
    ("typed", "read"),
    [("123456", "123456"), ("123 456", "123456"), ("12345", None), ("12345a", None), ("", None)],
)
def test_totp_codes_are_six_digits(typed: str, read: str | None) -> None:
    assert codes.totp_code(typed) == read
