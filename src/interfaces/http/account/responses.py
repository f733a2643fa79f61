"""The account's activity and its export, as the user reads and downloads them."""

from __future__ import annotations

import msgspec

from application.account import AccountExport
from application.devices.described import device_of
from domain.entities import ExternalIdentity, Passkey, Session
from domain.ports import Activity, SentMail
from interfaces.http.responses import UserBody
from interfaces.timestamps import iso, iso_or_none


class ActivityBody(msgspec.Struct, frozen=True):
    type: str
    at: str
    ip_address: str | None
    user_agent: str | None
    device: str | None  # approximate, read from the user agent ("Chrome on Linux")
    method: list[str] | None  # how a sign-in proved the user: its amr (RFC 8176)
    reason: str | None
    by_admin: bool  # an administrator did it (over the API or the CLI)
    session_id: str | None

    @classmethod
    def of(cls, entry: Activity) -> ActivityBody:
        return cls(
            type=entry.type,
            at=iso(entry.at),
            ip_address=entry.ip_address,
            user_agent=entry.user_agent,
            device=device_of(entry.user_agent),
            method=entry.method.split() if entry.method else None,
            reason=entry.reason,
            by_admin=entry.actor is not None,
            session_id=entry.session_id,
        )


class ActivityPageBody(msgspec.Struct, frozen=True):
    activity: list[ActivityBody]
    next_cursor: str | None


class IdentityBody(msgspec.Struct, frozen=True):
    provider: str
    subject: str
    email: str | None
    created_at: str

    @classmethod
    def of(cls, identity: ExternalIdentity) -> IdentityBody:
        return cls(
            provider=identity.provider,
            subject=identity.subject,
            email=identity.email,
            created_at=iso(identity.created_at),
        )


class ExportedSessionBody(msgspec.Struct, frozen=True):
    id: str
    created_at: str
    last_used_at: str
    expires_at: str
    ip_address: str | None
    user_agent: str | None
    device: str | None

    @classmethod
    def of(cls, session: Session) -> ExportedSessionBody:
        return cls(
            id=session.id,
            created_at=iso(session.created_at),
            last_used_at=iso(session.last_used_at),
            expires_at=iso(session.expires_at),
            ip_address=session.ip_address,
            user_agent=session.user_agent,
            device=device_of(session.user_agent),
        )


class ExportedPasskeyBody(msgspec.Struct, frozen=True):
    """Names and dates: the credential's id and public key stay (no key material leaves)."""

    name: str | None
    transports: list[str]
    created_at: str
    last_used_at: str | None

    @classmethod
    def of(cls, passkey: Passkey) -> ExportedPasskeyBody:
        return cls(
            name=passkey.name,
            transports=list(passkey.transports),
            created_at=iso(passkey.created_at),
            last_used_at=iso_or_none(passkey.last_used_at),
        )


class ExportedMailBody(msgspec.Struct, frozen=True):
    """Subject and dates: a body may carry a live token or link, so none is exported."""

    subject: str
    queued_at: str
    sent_at: str | None

    @classmethod
    def of(cls, mail: SentMail) -> ExportedMailBody:
        return cls(
            subject=mail.subject, queued_at=iso(mail.created_at), sent_at=iso_or_none(mail.sent_at)
        )


class ProfileBody(UserBody, frozen=True):
    updated_at: str
    disabled: bool
    has_password: bool
    authenticator_app_since: str | None


class ExportBody(msgspec.Struct, frozen=True):
    """Everything kept about the account, and nothing secret (GDPR Art. 15 and Art. 20: a
    structured, machine-readable copy). No password hash, TOTP secret, recovery code,
    token, key, or mail body."""

    exported_at: str
    profile: ProfileBody
    identities: list[IdentityBody]
    sessions: list[ExportedSessionBody]
    passkeys: list[ExportedPasskeyBody]
    activity: list[ActivityBody]
    mails: list[ExportedMailBody]

    @classmethod
    def of(cls, exported: AccountExport) -> ExportBody:
        user, app = exported.user, exported.authenticator_app
        return cls(
            exported_at=iso(exported.at),
            profile=ProfileBody(
                **msgspec.structs.asdict(UserBody.of(user)),
                updated_at=iso(user.updated_at),
                disabled=user.disabled,
                has_password=user.password_hash is not None,
                authenticator_app_since=None if app is None else iso_or_none(app.confirmed_at),
            ),
            identities=[IdentityBody.of(i) for i in exported.identities],
            sessions=[ExportedSessionBody.of(s) for s in exported.sessions],
            passkeys=[ExportedPasskeyBody.of(p) for p in exported.passkeys],
            activity=[ActivityBody.of(a) for a in exported.activity],
            mails=[ExportedMailBody.of(m) for m in exported.mails],
        )
