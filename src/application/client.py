"""Who is asking (their address and browser), as every audit event records it, and the
device they say they are on (for the new-device notice; never a credential)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.ports import AuditEvent, AuditLog


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientInfo:
    ip_address: str | None = None
    user_agent: str | None = None
    device: str | None = None  # the ``device`` cookie or ``X-Device-Id``, when sent


def audit_event(audit: AuditLog, event: str, client: ClientInfo, **fields: object) -> None:
    """An event that changes nothing stored (a failure, a refusal): the audit log writes its
    activity row after it (``application.activity``)."""
    audit.record(
        AuditEvent(
            event=event,
            ip_address=client.ip_address,
            user_agent=client.user_agent,
            **fields,  # type: ignore[arg-type]
        )
    )


def change_event(event: str, client: ClientInfo, **fields: object) -> AuditEvent:
    """The event of a change: handed to the port that makes the change, which writes its
    activity row in the change's transaction, then to the audit log, which only logs it."""
    return AuditEvent(
        event=event,
        ip_address=client.ip_address,
        user_agent=client.user_agent,
        with_change=True,
        **fields,  # type: ignore[arg-type]
    )
