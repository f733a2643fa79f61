"""The record of a password sign-in waiting for its second factor, across a deploy: one
written by the version before (no password digest) still completes."""

from __future__ import annotations

import json

from application.mfa.attempts import Pending


def test_a_record_from_the_version_before_still_decodes() -> None:
    written_before = {
        "user_id": 1,
        "email": "ada@example.test",
        "first": ["pwd"],
        "wrong": 0,
        "expires_at": "2026-12-07T12:00:00+00:00",
        "password_breached": False,
    }

    pending = Pending.decode(json.dumps(written_before).encode())

    assert pending is not None
    assert (pending.user_id, pending.password) == (1, None)
    assert Pending.decode(b'{"user_id": 1}') is None  # a broken record is still refused
