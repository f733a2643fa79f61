"""The refresh rotation rule, branch by branch (RFC 9700 §4.14.2)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.assurance import Assurance
from domain.entities import RefreshGrant
from domain.ports import GraceReplay, Invalid, Reused, Rotated, Rotation
from domain.rotation import GrantFamily, RotationStep, rotate_family

SIGNED_IN = Assurance(datetime(2026, 1, 1, tzinfo=UTC), ("pwd",))

T0 = datetime(2026, 1, 1, tzinfo=UTC)
IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=2)
GRACE = timedelta(seconds=10)
ACCESS = timedelta(minutes=15)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def issued() -> GrantFamily:
    return GrantFamily.issued(
        RefreshGrant(
            session_id="s1",
            user_id=7,
            token_hash="h0",
            idle_expires_at=T0 + IDLE,
            absolute_expires_at=T0 + ABSOLUTE,
            assurance=SIGNED_IN,
        )
    )


def rotated_once(when: datetime = at(60)) -> GrantFamily:
    return replace(
        issued(),
        current_hash="h1",
        previous_hash="h0",
        rotated_at=when,
        idle_expires_at=when + IDLE,
        generation=1,
    )


def rotation(presented: str, successor: str, now: datetime, generation: int = 0) -> Rotation:
    return Rotation(
        session_id="s1",
        presented_hash=presented,
        presented_generation=generation,
        successor_hash=successor,
        now=now,
        idle_ttl=IDLE,
        grace=GRACE,
        deny_until=now + ACCESS,
    )


def test_issued_family_has_one_token_and_no_rotation_yet() -> None:
    family = issued()
    assert (family.current_hash, family.previous_hash, family.rotated_at) == ("h0", None, None)


def test_unknown_token_is_invalid_and_keeps_nothing() -> None:
    assert rotate_family(None, rotation("h?", "h1", at(1))) == RotationStep(
        Invalid("unknown"), None
    )


def test_expired_by_idle_timeout_drops_the_family_without_denying_access() -> None:
    step = rotate_family(issued(), rotation("h0", "h1", T0 + IDLE))
    assert step == RotationStep(Invalid("expired"), None, None)


def test_expired_by_absolute_lifetime_even_while_idle_is_later() -> None:
    family = replace(issued(), idle_expires_at=T0 + ABSOLUTE + IDLE)
    step = rotate_family(family, rotation("h0", "h1", T0 + ABSOLUTE))
    assert step == RotationStep(Invalid("expired"), None)


def test_expiry_is_checked_before_the_token_matters() -> None:
    step = rotate_family(rotated_once(), rotation("h-old", "h2", at(60) + IDLE))
    assert step.outcome == Invalid("expired")
    assert step.deny_until is None


def test_current_token_rotates_to_the_successor_and_slides_idle_expiry() -> None:
    step = rotate_family(issued(), rotation("h0", "h1", at(60)))

    assert step.outcome == Rotated(
        session_id="s1",
        user_id=7,
        idle_expires_at=at(60) + IDLE,
        absolute_expires_at=T0 + ABSOLUTE,
        role="user",
        assurance=SIGNED_IN,
    )
    assert step.family == rotated_once(at(60))
    assert step.deny_until is None


def test_rotation_never_slides_idle_expiry_past_the_absolute_lifetime() -> None:
    now = T0 + ABSOLUTE - timedelta(minutes=5)
    family = replace(issued(), idle_expires_at=now + timedelta(minutes=1))

    step = rotate_family(family, rotation("h0", "h1", now))

    assert isinstance(step.outcome, Rotated)
    assert step.outcome.idle_expires_at == T0 + ABSOLUTE
    assert step.family is not None
    assert step.family.idle_expires_at == T0 + ABSOLUTE


def test_grace_replay_of_the_previous_token_answers_the_same_family_unchanged() -> None:
    family = rotated_once()

    step = rotate_family(family, rotation("h0", "h1", at(60) + GRACE - timedelta(microseconds=1)))

    assert step == RotationStep(
        GraceReplay(
            session_id="s1",
            user_id=7,
            idle_expires_at=family.idle_expires_at,
            absolute_expires_at=family.absolute_expires_at,
            role=family.role,
            assurance=SIGNED_IN,
        ),
        family,
    )


def test_previous_token_exactly_at_the_end_of_grace_is_reuse() -> None:
    now = at(60) + GRACE
    step = rotate_family(rotated_once(), rotation("h0", "h1", now))
    assert step == RotationStep(Reused(session_id="s1", user_id=7), None, now + ACCESS)


def test_previous_token_within_grace_asking_another_successor_is_reuse() -> None:
    step = rotate_family(rotated_once(), rotation("h0", "x1", at(61)))
    assert step.outcome == Reused(session_id="s1", user_id=7)
    assert step.family is None


def test_previous_token_with_zero_grace_is_reuse() -> None:
    zero = replace(rotation("h0", "h1", at(60)), grace=timedelta(0))
    assert isinstance(rotate_family(rotated_once(), zero).outcome, Reused)


def test_older_token_is_reuse_that_drops_the_family_and_denies_access() -> None:
    now = at(61)
    step = rotate_family(rotated_once(), rotation("h-older", "h-x", now))
    assert step == RotationStep(Reused(session_id="s1", user_id=7), None, now + ACCESS)


def test_issued_family_is_generation_0_and_each_rotation_is_the_successors() -> None:
    assert issued().generation == 0
    first = rotate_family(issued(), rotation("h0", "h1", at(60), generation=0)).family
    assert first is not None
    second = rotate_family(first, rotation("h1", "h2", at(61), generation=1)).family
    assert second is not None
    assert (first.generation, second.generation) == (1, 2)


@pytest.mark.parametrize("ahead", [1, 5])
def test_a_newer_genuine_token_is_unknown_and_keeps_the_family_untouched(ahead: int) -> None:
    """A rotation the store lost (a failover): not theft, nothing revoked."""
    family = rotated_once()

    step = rotate_family(family, rotation("h-lost", "h-lost+1", at(61), generation=1 + ahead))

    assert step == RotationStep(Invalid("unknown"), family, None)


@pytest.mark.parametrize("generation", [0, 1])
def test_a_genuine_token_not_newer_than_the_family_is_reuse(generation: int) -> None:
    """Older (0), or of the family's own generation but not current (1)."""
    now = at(61)
    step = rotate_family(rotated_once(), rotation("h-other", "h-x", now, generation))
    assert step == RotationStep(Reused(session_id="s1", user_id=7), None, now + ACCESS)


def test_the_current_and_grace_checks_come_before_the_generation() -> None:
    family = rotated_once()
    current = rotate_family(family, rotation("h1", "h2", at(61), generation=9))
    replay = rotate_family(family, rotation("h0", "h1", at(61), generation=9))
    assert isinstance(current.outcome, Rotated)
    assert isinstance(replay.outcome, GraceReplay)


def test_a_rotation_never_takes_the_family_back_a_generation() -> None:
    """Its current token presented as of a lower generation than the family's: the family
    keeps its generation."""
    family = replace(rotated_once(), generation=4)
    lower = rotate_family(family, rotation("h1", "h2", at(61), generation=2)).family
    assert lower is not None
    assert lower.generation == 4
