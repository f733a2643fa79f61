"""UserRepository contract: every adapter, including the unit tests' fake."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from domain.entities import ExternalIdentity, NewUser
from domain.errors import EmailTaken
from domain.ports import UserRepository

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def new_user(email: str = "ann@example.com", password_hash: str | None = "hash") -> NewUser:
    return NewUser(email=email, password_hash=password_hash, name="Ann", role="user", created_at=T0)


async def test_an_added_user_is_found_by_id_and_by_email(users: UserRepository) -> None:
    added = await users.add(new_user(), told=None)
    assert added.id > 0
    assert added.created_at == T0 == added.updated_at
    assert await users.get(added.id) == added
    assert await users.get_by_email("ann@example.com") == added


async def test_ids_are_distinct_and_increasing(users: UserRepository) -> None:
    first = await users.add(new_user("a@example.com"), told=None)
    second = await users.add(new_user("b@example.com"), told=None)
    assert second.id > first.id


async def test_a_missing_user_is_none(users: UserRepository) -> None:
    assert await users.get(424242) is None
    assert await users.get_by_email("nobody@example.com") is None


async def test_a_second_user_with_the_same_email_is_email_taken(users: UserRepository) -> None:
    await users.add(new_user(), told=None)
    with pytest.raises(EmailTaken):
        await users.add(new_user(), told=None)


async def test_twenty_concurrent_registrations_of_one_email_make_exactly_one_user(
    users: UserRepository,
) -> None:
    results = await asyncio.gather(
        *(users.add(new_user("race@example.com"), told=None) for _ in range(20)),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(e, EmailTaken) for e in losers)
    assert await users.get_by_email("race@example.com") == winners[0]


async def test_a_user_without_password_can_be_stored(users: UserRepository) -> None:
    added = await users.add(new_user(password_hash=None), told=None)
    found = await users.get(added.id)
    assert found is not None
    assert found.password_hash is None


async def test_a_rehash_changes_hash_and_updated_at(users: UserRepository) -> None:
    added = await users.add(new_user(), told=None)
    assert added.password_hash is not None
    later = T0 + timedelta(hours=1)
    await users.rehash_password(added.id, added.password_hash, "new-hash", later)
    found = await users.get(added.id)
    assert found is not None
    assert (found.password_hash, found.updated_at, found.created_at) == ("new-hash", later, T0)


async def test_a_rehash_never_brings_back_a_password_dropped_or_replaced_meanwhile(
    users: UserRepository,
) -> None:
    """A sign-in checks the old hash, a reset replaces it (or a takeover drops it), then the
    sign-in's rehash of the old password arrives: it writes nothing."""
    added = await users.add(new_user(password_hash="old-hash"), told=None)
    await users.rehash_password(added.id, "old-hash", "replaced", T0)  # the reset, say
    await users.rehash_password(added.id, "old-hash", "old-password-rehashed", T0)
    found = await users.get(added.id)
    assert found is not None
    assert found.password_hash == "replaced"


async def test_a_removed_user_is_gone(users: UserRepository) -> None:
    added = await users.add(new_user(), told=None)
    await users.remove(added.id)
    assert await users.get(added.id) is None
    assert await users.get_by_email(added.email) is None


async def test_a_linked_identity_finds_its_user_and_relinking_is_a_no_op(
    users: UserRepository,
) -> None:
    ann = await users.add(new_user(), told=None)
    bob = await users.add(new_user("bob@example.com"), told=None)
    identity = ExternalIdentity(
        provider="google", subject="sub-1", user_id=ann.id, email=ann.email, created_at=T0
    )
    await users.link_identity(identity)
    await users.link_identity(
        ExternalIdentity(
            provider="google", subject="sub-1", user_id=bob.id, email=None, created_at=T0
        )
    )
    assert await users.get_by_identity("google", "sub-1") == ann
    assert await users.get_by_identity("google", "sub-2") is None
    assert await users.get_by_identity("other", "sub-1") is None


async def test_identities_linked_since_a_moment_are_unlinked_the_older_stay(
    users: UserRepository,
) -> None:
    ann = await users.add(new_user(), told=None)
    bob = await users.add(new_user("bob@example.com"), told=None)
    for provider, user_id, at in (
        ("google", ann.id, T0),
        ("github", ann.id, T0 + timedelta(hours=2)),
        ("gitlab", bob.id, T0 + timedelta(hours=2)),
    ):
        await users.link_identity(
            ExternalIdentity(
                provider=provider, subject="s", user_id=user_id, email=None, created_at=at
            )
        )

    unlinked = await users.unlink_identities_since(
        ann.id, T0 + timedelta(hours=1), T0 + timedelta(hours=3), None
    )

    assert unlinked == ["github"]
    assert await users.get_by_identity("google", "s") == ann
    assert await users.get_by_identity("github", "s") is None
    assert await users.get_by_identity("gitlab", "s") == bob
    assert await users.unlink_identities_since(ann.id, T0, T0, None) == ["google"]
