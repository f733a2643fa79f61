"""A password sign-in is under way for as long as argon2id takes (~20 ms, more under load).
A change that ends every session of the user meanwhile (a reset, the mailbox's owner taking
over an unverified account) ran before this session existed: the sign-in looks again once
its grant is stored, and a password dropped or replaced since it was checked ends it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pyotp
import pytest

from application.admin.commands import CLI
from application.admin.roles import SetRoleCommand
from application.email.change import ChangePasswordCommand
from application.email.recovery import ResetPasswordCommand
from application.mfa.passkey_sign_in import PasskeySignInCommand
from application.mfa.totp import DisableTotpCommand, TotpCodeCommand
from domain.errors import (
    InvalidAccessToken,
    InvalidCredentials,
    InvalidMfaCode,
    InvalidPasskey,
    InvalidRefreshToken,
    MfaRequired,
)
from tests.fakes.authenticator import SoftAuthenticator
from tests.fakes.clock import FakeClock
from tests.unit.test_email_sign_in import ADA, ask, with_code
from tests.unit.test_planted_factors import reset_token
from tests.unit.world import CLIENT, ISSUER, PASSWORD, World, build_world


def while_the_password_is_checked(world: World, meanwhile: Callable[[], Awaitable[object]]):
    """The next password check runs ``meanwhile`` before it answers."""
    real_verify = world.hasher.verify
    ran: list[object] = []

    async def verify(password_hash: str, password: str) -> bool:
        ok = await real_verify(password_hash, password)
        if not ran:
            ran.append(await meanwhile())
        return ok

    world.hasher.verify = verify  # type: ignore[method-assign]
    return ran


async def test_the_mailbox_owners_takeover_ends_a_squatters_sign_in_under_way(
    clock: FakeClock,
) -> None:
    world = build_world(clock)
    await world.sign_up(ADA)  # the squatter: the owner's address, unverified, their password
    mail = await ask(world)  # the owner asks for a sign-in mail
    owner = while_the_password_is_checked(
        world, lambda: world.email_sign_in.execute(with_code(mail))
    )

    with pytest.raises(InvalidCredentials):
        await world.sign_in(ADA, PASSWORD)

    assert owner[0].user.email_verified
    assert (await world.claims(owner[0].tokens.access_token)).user_id == owner[0].user.id
    revoked = [s for s in world.sessions.sessions.values() if s.revoked_reason]
    assert "password_changed" in [s.revoked_reason for s in revoked]


async def a_reset_while_the_password_is_checked(world: World) -> None:
    token = await reset_token(world)
    command = ResetPasswordCommand(token=token, new_password="a new password", client=CLIENT)
    while_the_password_is_checked(world, lambda: world.reset_password.execute(command))


async def test_a_reset_ends_a_sign_in_under_way_with_the_old_password(clock: FakeClock) -> None:
    world = build_world(clock)
    signed_up = await world.sign_up_verified(ADA)
    await a_reset_while_the_password_is_checked(world)

    with pytest.raises(InvalidCredentials):
        await world.sign_in(ADA, PASSWORD)

    with pytest.raises(InvalidAccessToken):  # the reset ended the one before, too
        await world.claims(signed_up.tokens.access_token)
    assert (await world.sign_in(ADA, "a new password")).user.id == signed_up.user.id


async def test_a_rehash_under_way_never_brings_back_a_replaced_password(clock: FakeClock) -> None:
    world = build_world(clock)
    await world.sign_up_verified(ADA)
    world.hasher.needs_rehash = lambda password_hash: True  # type: ignore[method-assign]
    await a_reset_while_the_password_is_checked(world)  # the old password rehashed meanwhile

    with pytest.raises(InvalidCredentials):
        await world.sign_in(ADA, PASSWORD)

    with pytest.raises(InvalidCredentials):
        await world.sign_in(ADA, PASSWORD)
    assert (await world.sign_in(ADA, "a new password")).user.email == ADA


@pytest.mark.parametrize(("before", "after"), [("admin", "user"), ("user", "admin")])
async def test_a_role_set_while_the_password_is_checked_is_the_new_sessions_role(
    clock: FakeClock, before: str, after: str
) -> None:
    """The role change rewrote the grants there were; this one was not stored yet. Its
    tokens, refreshed for up to the session's whole lifetime, say the role of now."""
    world = build_world(clock)
    ada = await world.sign_up_verified(ADA)
    await world.sign_up_verified("root@example.test")
    for user_id in (ada.user.id, ada.user.id + 1):
        await world.set_role.execute(SetRoleCommand(user_id=user_id, actor=CLI, role="admin"))
    if before == "user":
        await world.set_role.execute(SetRoleCommand(user_id=ada.user.id, actor=CLI, role="user"))
    change = SetRoleCommand(user_id=ada.user.id, actor=CLI, role=after)
    while_the_password_is_checked(world, lambda: world.set_role.execute(change))

    signed_in = await world.sign_in(ADA, PASSWORD)

    assert (await world.claims(signed_in.tokens.access_token)).role == after
    clock.advance(3600)
    refreshed = await world.rotate(signed_in.tokens.refresh_token)
    assert (await world.claims(refreshed.access_token)).role == after


async def test_a_password_change_under_way_never_undoes_the_owners_reset(clock: FakeClock) -> None:
    """The intruder knows the password and changes it; while the new one is hashed, the
    owner resets it from the mailbox. The reset wins: the change writes nothing."""
    world = build_world(clock)
    intruder = await world.sign_up_verified(ADA)
    claims = await world.claims(intruder.tokens.access_token)
    token = await reset_token(world)
    owners = ResetPasswordCommand(token=token, new_password="the owner's own", client=CLIENT)
    real_hash = world.hasher.hash

    async def hash_then_reset(password: str) -> str:
        hashed = await real_hash(password)
        if password == "the intruder's own":
            await world.reset_password.execute(owners)
        return hashed

    world.hasher.hash = hash_then_reset  # type: ignore[method-assign]
    change = ChangePasswordCommand(
        caller=claims, current_password=PASSWORD, new_password="the intruder's own", client=CLIENT
    )

    with pytest.raises(InvalidCredentials):
        await world.change_password.execute(change)

    assert (await world.sign_in(ADA, "the owner's own")).user.id == intruder.user.id
    with pytest.raises(InvalidCredentials):
        await world.sign_in(ADA, "the intruder's own")
    assert "password_changed" in [e.reason for e in world.audit.named("password_change_failed")]


async def test_a_squatters_passkey_sign_in_under_way_ends_with_the_owners_reset(
    clock: FakeClock,
) -> None:
    """Someone signed up passkey-first with the owner's address. The owner's reset proves the
    mailbox and removes that passkey; a sign-in with it that had already checked the passkey
    stores its session after the reset swept every session. It must end, not live on."""
    world = build_world(clock)
    stranger = SoftAuthenticator(ISSUER)
    await world.sign_up_with_passkey(stranger)
    clock.advance(60)
    owners = ResetPasswordCommand(
        token=await reset_token(world), new_password="the owner's own", client=CLIENT
    )
    real_record_use = world.passkeys.record_use

    async def record_use_then_reset(*args: Any) -> bool:
        recorded = await real_record_use(*args)
        await world.reset_password.execute(owners)
        return recorded

    world.passkeys.record_use = record_use_then_reset  # type: ignore[method-assign, assignment]
    options = await world.start_passkey_sign_in.execute(CLIENT)

    known = {user: set(devices) for user, devices in world.devices.devices.items()}

    with pytest.raises(InvalidPasskey):
        await world.finish_passkey_sign_in.execute(
            PasskeySignInCommand(credential=stranger.get(dict(options)), client=CLIENT)
        )

    assert not [s for s in world.sessions.sessions.values() if s.revoked_at is None]
    # Refused before the device counts: no new-device mail, no device of theirs kept.
    assert {user: set(devices) for user, devices in world.devices.devices.items()} == known
    assert not [m for m in world.mail.queued_to(ADA) if m.subject.startswith("New sign-in")]


async def test_a_session_ended_while_its_app_is_confirmed_gets_no_new_token(
    clock: FakeClock,
) -> None:
    """The confirm makes the caller's session aal2 and mints its token; a session ended
    meanwhile (signed out elsewhere, disabled) has no grant to carry it, and gets none."""
    world = build_world(clock)
    owner = await world.sign_up_verified(ADA)
    claims = await world.claims(owner.tokens.access_token)
    setup = await world.setup_totp.execute(claims)
    real_activate = world.totp.activate

    async def activate_then_end_the_session(*args: Any) -> bool:
        activated = await real_activate(*args)
        await world.revoker.revoke(claims.session_id, claims.user_id, "logout", CLIENT)
        return activated

    world.totp.activate = activate_then_end_the_session  # type: ignore[method-assign, assignment]
    confirm = TotpCodeCommand(caller=claims, code=pyotp.TOTP(setup.secret).now(), client=CLIENT)

    with pytest.raises(InvalidAccessToken):
        await world.confirm_totp.execute(confirm)

    # Nobody saw its recovery codes, and its session is gone: the app goes again.
    assert await world.totp.get(owner.user.id) is None
    assert [e.reason for e in world.audit.named("mfa_disabled")] == ["session_ended"]


async def test_a_setup_in_another_tab_while_the_app_is_confirmed_is_not_what_turns_on(
    clock: FakeClock,
) -> None:
    """The code proved the first secret; a second setup replaced the pending one meanwhile.
    Turning that one on would refuse the owner's app and accept another's codes."""
    world = build_world(clock)
    owner = await world.sign_up_verified(ADA)
    claims = await world.claims(owner.tokens.access_token)
    first = await world.setup_totp.execute(claims)

    async def other_setup() -> None:
        await world.setup_totp.execute(claims)

    code = pyotp.TOTP(first.secret).now()
    confirm = TotpCodeCommand(caller=claims, code=code, client=CLIENT)
    real_activate = world.totp.activate

    async def setup_then_activate(*args: Any) -> bool:
        await other_setup()
        return await real_activate(*args)

    world.totp.activate = setup_then_activate  # type: ignore[method-assign, assignment]

    with pytest.raises(InvalidMfaCode):
        await world.confirm_totp.execute(confirm)

    credential = await world.totp.get(owner.user.id)
    assert credential is not None
    assert not credential.active


async def test_a_stolen_access_token_cycling_the_app_never_outlives_itself(
    clock: FakeClock,
) -> None:
    """Set up an app (its secret is handed to the caller), confirm it (a new aal2 token),
    turn it off with its own code, again: each confirm proves only the secret just given,
    so its token lives no longer than the one that asked."""
    world = build_world(clock)
    owner = await world.sign_up_verified(ADA)
    stolen = await world.claims(owner.tokens.access_token)
    token = owner.tokens.access_token
    for _ in range(5):  # 151 s each: the stolen token has 900
        clock.advance(120)
        claims = await world.claims(token)
        setup = await world.setup_totp.execute(claims)
        code = pyotp.TOTP(setup.secret).at(clock.now())
        confirmed = await world.confirm_totp.execute(
            TotpCodeCommand(caller=claims, code=code, client=CLIENT)
        )
        token = confirmed.access_token
        assert (await world.claims(token)).expires_at <= stolen.expires_at
        clock.advance(31)  # the next time step: the app's code is spent once
        renewed = await world.claims(token)
        await world.disable_totp.execute(
            DisableTotpCommand(
                caller=renewed,
                password=None,
                code=pyotp.TOTP(setup.secret).at(clock.now()),
                client=CLIENT,
            )
        )

    clock.advance((stolen.expires_at - clock.now()).total_seconds() + 1)
    with pytest.raises(InvalidAccessToken):
        await world.claims(token)


async def test_a_promotion_and_a_demotion_during_a_sign_in_leave_no_session_an_admin(
    clock: FakeClock,
) -> None:
    """The sign-in's second look reads "admin" (promoted meanwhile); before it writes that
    over the user's grants, a demotion has rewritten them all to "user" and ended every
    session (an admin demoted keeps none). No session may come out of it an admin: each
    refresh is refused, or says "user"."""
    world = build_world(clock)
    ada = await world.sign_up_verified(ADA)
    await world.sign_up_verified("root@example.test")
    await world.set_role.execute(SetRoleCommand(user_id=ada.user.id + 1, actor=CLI, role="admin"))
    older = await world.sign_in(ADA, PASSWORD)
    promote = SetRoleCommand(user_id=ada.user.id, actor=CLI, role="admin")
    demote = SetRoleCommand(user_id=ada.user.id, actor=CLI, role="user")
    real_set_role = world.grants.set_role
    demoted: list[int] = []

    async def demote_first(user_id: int, role: str) -> int:
        if not demoted:
            demoted.append(1)
            await world.set_role.execute(demote)  # lands between the look and this write
        return await real_set_role(user_id, role)

    async def promote_then_wait_for_the_look() -> None:
        await world.set_role.execute(promote)
        world.grants.set_role = demote_first  # type: ignore[method-assign]

    while_the_password_is_checked(world, promote_then_wait_for_the_look)

    signed_in = await world.sign_in(ADA, PASSWORD)

    clock.advance(3600)
    ended = 0
    for refresh_token in (signed_in.tokens.refresh_token, older.tokens.refresh_token):
        try:
            refreshed = await world.rotate(refresh_token)
        except InvalidRefreshToken:
            ended += 1
            continue
        assert (await world.claims(refreshed.access_token)).role == "user"
    assert ended >= 1  # the older session at least: it was an admin's


async def test_the_app_turned_on_after_the_gate_looked_ends_the_one_factor_sign_in(
    clock: FakeClock,
) -> None:
    """The gate of a password sign-in found no app; the owner turns one on in another
    session before this sign-in's session exists, so the turning on, which ends every other
    session, cannot see it. The sign-in's second look must: else a one-factor session lives
    on in an account whose every sign-in now needs the app."""
    world = build_world(clock)
    owner = await world.sign_up_verified(ADA)
    claims = await world.claims(owner.tokens.access_token)
    setup = await world.setup_totp.execute(claims)
    clock.advance(1)
    confirm = TotpCodeCommand(caller=claims, code=pyotp.TOTP(setup.secret).now(), client=CLIENT)
    real_get = world.totp.get
    armed = [True]

    async def get_then_turn_the_app_on(user_id: int) -> Any:
        found = await real_get(user_id)
        if armed.pop() if armed else False:
            await world.confirm_totp.execute(confirm)
        return found

    world.totp.get = get_then_turn_the_app_on  # type: ignore[method-assign]

    with pytest.raises(InvalidCredentials):
        await world.sign_in(ADA, PASSWORD)

    revoked = [s.revoked_reason for s in world.sessions.sessions.values() if s.revoked_reason]
    assert "mfa_enabled" in revoked
    with pytest.raises(MfaRequired):  # from now on, the second step
        await world.sign_in(ADA, PASSWORD)
