"""Signatures checked by the Standard Webhooks reference library, not by our own code."""

from __future__ import annotations

import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from application.webhooks.signing import headers, new_secret

BODY = b'{"type":"user.created","timestamp":"2026-01-01T00:00:00+00:00","data":{}}'


def test_a_signature_verifies_with_the_reference_library() -> None:
    secret = new_secret()
    signed = headers((secret,), "msg_1", int(time.time()), BODY)

    assert Webhook(secret).verify(BODY, signed)["type"] == "user.created"
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, signed)


def test_during_a_rotation_both_secrets_sign() -> None:
    new, old = new_secret(), new_secret()
    signed = headers((new, old), "msg_1", int(time.time()), BODY)

    assert len(signed["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(BODY, signed)
    Webhook(old).verify(BODY, signed)


def test_a_tampered_body_does_not_verify() -> None:
    secret = new_secret()
    signed = headers((secret,), "msg_1", int(time.time()), BODY)

    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"created", b"deleted"), signed)
