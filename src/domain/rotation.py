"""The refresh rotation rule, written once: every grant store applies it to what it keeps.

A store reads the family by the rotation's session id, asks :func:`rotate_family`, and
writes the family it answers in the same atomic step. (Valkey's Lua script
``rotate.lua`` restates this rule; the contract and property tests hold it to this one.)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from domain.assurance import Assurance
from domain.entities import RefreshGrant
from domain.ports.grants import GraceReplay, Invalid, Reused, Rotated, Rotation, RotationOutcome


@dataclass(frozen=True, slots=True, kw_only=True)
class GrantFamily:
    """What a store keeps of one session's token family: hashes and times only."""

    session_id: str
    user_id: int
    current_hash: str
    previous_hash: str | None
    rotated_at: datetime | None
    idle_expires_at: datetime
    absolute_expires_at: datetime
    role: str
    assurance: Assurance
    generation: int  # the highest generation of token the family handed out: its current's

    @classmethod
    def issued(cls, grant: RefreshGrant) -> GrantFamily:
        return cls(
            session_id=grant.session_id,
            user_id=grant.user_id,
            current_hash=grant.token_hash,
            previous_hash=None,
            rotated_at=None,
            idle_expires_at=grant.idle_expires_at,
            absolute_expires_at=grant.absolute_expires_at,
            role=grant.role,
            assurance=grant.assurance,
            generation=0,
        )

    def expired(self, now: datetime) -> bool:
        return self.idle_expires_at <= now or self.absolute_expires_at <= now


@dataclass(frozen=True, slots=True)
class RotationStep:
    """The answer, and the family to keep afterwards (None: the store has none)."""

    outcome: RotationOutcome
    family: GrantFamily | None
    deny_until: datetime | None = None  # the session's access tokens die until then


def rotate_family(family: GrantFamily | None, rotation: Rotation) -> RotationStep:
    """Decide one refresh: ``family`` is the one the presented token names, if any.

    The presented token is genuine (the application checked its MAC), so it is one this
    family has handed out: the current one, the previous one, or an older one, unless the
    store lost the rotations that handed it out (its generation then is past the
    family's). That is why a store needs no entry per token.
    """
    if family is None:
        return RotationStep(Invalid("unknown"), None)
    if family.expired(rotation.now):
        # Expiry is no attack: the family goes, its access tokens live out their time.
        return RotationStep(Invalid("expired"), None)
    if rotation.presented_hash == family.current_hash:
        return _rotated(family, rotation)
    if _is_grace_replay(family, rotation):
        replay = GraceReplay(
            session_id=family.session_id,
            user_id=family.user_id,
            idle_expires_at=family.idle_expires_at,
            absolute_expires_at=family.absolute_expires_at,
            role=family.role,
            assurance=family.assurance,
        )
        return RotationStep(replay, family)
    if _is_lost_rotation(family, rotation):
        # A genuine token newer than any the family handed out: the store lost the
        # rotation that minted it (asynchronous replication loses a failed primary's last
        # writes). Not theft: nobody can mint a genuine token of a later generation without
        # the secret, and no holder of an old one gets a newer one but by a rotation. So it
        # is an unknown token, as it was when the store kept one entry per token: refused,
        # the family left as it is, nothing revoked (a forced sign-in, no false alarm).
        return RotationStep(Invalid("unknown"), family)
    # RFC 9700 §4.14.2: an old token came back, so one of its holders is an attacker;
    # the whole family dies, the current token and its access tokens included. Neither
    # current nor previous, yet genuine and not newer: an older generation, so no
    # per-token record is needed to call it reuse. (A forged token never gets here: its
    # MAC fails first.)
    reused = Reused(session_id=family.session_id, user_id=family.user_id)
    return RotationStep(reused, None, rotation.deny_until)


def _rotated(family: GrantFamily, rotation: Rotation) -> RotationStep:
    # The idle timeout slides with each use, never past the absolute lifetime.
    idle = min(rotation.now + rotation.idle_ttl, family.absolute_expires_at)
    successor = replace(
        family,
        current_hash=rotation.successor_hash,
        previous_hash=family.current_hash,
        rotated_at=rotation.now,
        idle_expires_at=idle,
        # The successor's generation, the presented one's plus one. Never less than the
        # family's: should a family ever hold a token behind its generation, its older
        # tokens stay reuse (failing closed) rather than pass for lost rotations.
        generation=max(family.generation, rotation.presented_generation + 1),
    )
    rotated = Rotated(
        session_id=family.session_id,
        user_id=family.user_id,
        idle_expires_at=idle,
        absolute_expires_at=family.absolute_expires_at,
        role=family.role,
        assurance=family.assurance,
    )
    return RotationStep(rotated, successor)


def _is_lost_rotation(family: GrantFamily, rotation: Rotation) -> bool:
    """Neither current nor previous, of a generation past the family's."""
    return rotation.presented_generation > family.generation


def _is_grace_replay(family: GrantFamily, rotation: Rotation) -> bool:
    """The previous token again, shortly after it rotated, asking for the same successor
    (parallel tabs racing one cookie): the window is open-ended, ``grace`` is too late."""
    return (
        rotation.presented_hash == family.previous_hash
        and family.rotated_at is not None
        and rotation.now - family.rotated_at < rotation.grace
        and rotation.successor_hash == family.current_hash
    )
