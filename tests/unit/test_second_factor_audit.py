"""Every second-factor change and failure is an audit event (never with a code or a secret)."""

from __future__ import annotations

import pyotp
import pytest

from application.admin import CLI, AdminCommand
from application.mfa.passkeys import FinishRegistrationCommand, RemovePasskeyCommand
from application.mfa.sign_in import MfaSignInCommand
from application.mfa.totp import DisableTotpCommand, TotpCodeCommand
from domain.errors import InvalidMfaCode, MfaRequired
from tests.fakes.authenticator import SoftAuthenticator
from tests.unit.world import CLIENT, ISSUER, World


async def enable(world: World) -> tuple[pyotp.TOTP, list[str]]:
    signed_in = await world.sign_up_verified()
    claims = await world.claims(signed_in.tokens.access_token)
    setup = await world.setup_totp.execute(claims)
    app = pyotp.TOTP(setup.secret)
    confirmed = await world.confirm_totp.execute(
        TotpCodeCommand(caller=claims, code=app.at(world.clock.now()), client=CLIENT)
    )
    return app, confirmed.recovery_codes


async def mfa_token(world: World) -> str:
    with pytest.raises(MfaRequired) as required:
        await world.sign_in()
    return required.value.mfa_token


def names(world: World) -> list[str]:
    return [e.event for e in world.audit.events]


async def test_enabling_using_a_recovery_code_failing_and_disabling_are_audited(world: World):
    app, codes = await enable(world)
    assert "mfa_enabled" in names(world)

    token = await mfa_token(world)
    with pytest.raises(InvalidMfaCode):
        await world.complete_mfa_sign_in.execute(
            MfaSignInCommand(mfa_token=token, code="000000", recovery_code=None, client=CLIENT)
        )
    [failed] = world.audit.named("mfa_failed")
    assert (failed.user_id, failed.reason) == (1, "totp")

    signed_in = await world.complete_mfa_sign_in.execute(
        MfaSignInCommand(mfa_token=token, code=None, recovery_code=codes[0], client=CLIENT)
    )
    assert len(world.audit.named("recovery_code_used")) == 1
    assert world.audit.named("login_succeeded")[-1].reason == "mfa:recovery_code"

    claims = await world.claims(signed_in.tokens.access_token)
    world.clock.advance(30)
    await world.disable_totp.execute(
        DisableTotpCommand(
            caller=claims, password=None, code=app.at(world.clock.now()), client=CLIENT
        )
    )
    assert world.audit.named("mfa_disabled")[0].reason == "totp"
    assert (await world.sign_in()).user.id == 1

    text = repr(world.audit.events)
    assert not any(code in text for code in codes)
    assert app.secret not in text
    assert token not in text


async def test_a_pending_setup_does_not_stop_a_password_sign_in(world: World):
    signed_in = await world.sign_up_verified()
    await world.setup_totp.execute(await world.claims(signed_in.tokens.access_token))
    assert (await world.sign_in()).user.id == signed_in.user.id


async def test_adding_removing_and_resetting_passkeys_are_audited(world: World):
    await enable(world)  # Ada (user 1): an app
    bob = await world.sign_up_verified("bob@example.test")
    claims = await world.claims(bob.tokens.access_token)
    authenticator = SoftAuthenticator(ISSUER)
    for _ in range(2):
        options = await world.start_passkey_registration.execute(claims)
        await world.finish_passkey_registration.execute(
            FinishRegistrationCommand(
                caller=claims,
                credential=authenticator.create(dict(options)),
                name=None,
                client=CLIENT,
            )
        )
        claims = world.proven(claims)  # a second passkey needs aal2 (step-up)
    assert len(world.audit.named("passkey_added")) == 2
    first, _ = await world.passkeys.of_user(claims.user_id)
    await world.remove_passkey.execute(
        RemovePasskeyCommand(caller=claims, passkey_id=first.id, client=CLIENT)
    )
    assert [e.user_id for e in world.audit.named("passkey_removed")] == [bob.user.id]

    reset = world.reset_second_factor
    await reset.execute(AdminCommand(user_id=bob.user.id, actor=CLI))
    await reset.execute(AdminCommand(user_id=1, actor=CLI))

    removed = world.audit.named("passkey_removed")
    assert [(e.user_id, e.actor) for e in removed] == [(bob.user.id, None), (bob.user.id, "cli")]
    [disabled] = world.audit.named("mfa_disabled")
    assert (disabled.user_id, disabled.actor) == (1, "cli")
    assert await world.passkeys.of_user(bob.user.id) == []
    assert (await world.sign_in()).user.id == 1  # the password alone again

    await reset.execute(AdminCommand(user_id=1, actor=CLI))  # nothing left: audited all the same
    resets = world.audit.named("mfa_reset")
    assert [(e.user_id, e.actor) for e in resets] == [(bob.user.id, "cli"), (1, "cli"), (1, "cli")]
