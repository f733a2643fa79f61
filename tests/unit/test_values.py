from __future__ import annotations

import pytest

from domain.values import PASSWORD_MAX, PASSWORD_MIN, Email, password_problems

LONGEST_DOMAIN = "b" * 63 + "." + "c" * 63 + "." + "d" * 61  # 189 characters
LONGEST_EMAIL = "a" * 64 + "@" + LONGEST_DOMAIN  # 254, RFC 5321's limit


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("user@site.com", "user@site.com"),
        ("Ada@Example.COM", "ada@example.com"),
        ("  padded@example.test \n", "padded@example.test"),
        ("first.last+tag@mail.example.co.uk", "first.last+tag@mail.example.co.uk"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("x@a-b.io", "x@a-b.io"),
        (LONGEST_EMAIL, LONGEST_EMAIL),
    ],
)
def test_email_parse_normalises_a_valid_address(raw: str, normalised: str) -> None:
    assert Email.parse(raw).value == normalised
    assert str(Email.parse(raw)) == normalised


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "plain",
        "@example.com",
        "user@",
        "user@localhost",
        "user@@example.com",
        "user@example..com",
        "user@-example.com",
        "user@example-.com",
        "us er@example.com",
        "user@exa mple.com",
        "user@example.com.",
        "user@" + "x" * 64 + ".com",
        LONGEST_EMAIL[:-1] + "dd",
        # An RFC 2047 encoded-word: a header decodes it (here to CR LF and a Bcc header).
        "=?utf-8?q?a=0D=0Abcc=3A_x=40evil.com?=@example.com",
        # Lower-cased, the Kelvin sign is "k": another mailbox, never kate@example.com.
        "\u212aate@example.com",
    ],
)
def test_email_parse_rejects_an_invalid_address(raw: str) -> None:
    with pytest.raises(ValueError, match="valid email"):
        Email.parse(raw)


@pytest.mark.parametrize(
    ("length", "problem"),
    [
        (0, f"at least {PASSWORD_MIN}"),
        (PASSWORD_MIN - 1, f"at least {PASSWORD_MIN}"),
        (PASSWORD_MIN, None),
        (PASSWORD_MAX, None),
        (PASSWORD_MAX + 1, f"at most {PASSWORD_MAX}"),
    ],
)
def test_password_length_boundaries(length: int, problem: str | None) -> None:
    problems = password_problems("p" * length)
    if problem is None:
        assert problems == []
    else:
        assert [p.field for p in problems] == ["password"]
        assert problem in problems[0].message


def test_password_limits_are_8_and_1024() -> None:
    assert (PASSWORD_MIN, PASSWORD_MAX) == (8, 1024)
