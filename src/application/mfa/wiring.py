"""The second-factor use cases, wired from the same ports as every other use case."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from application.mfa.attempts import MfaAttempts
from application.mfa.factors import SecondFactors
from application.mfa.overview import ShowSecondFactors
from application.mfa.passkey_sign_in import FinishPasskeySignIn, StartPasskeySignIn
from application.mfa.passkeys import (
    FinishPasskeyRegistration,
    ListPasskeys,
    RemovePasskey,
    StartPasskeyRegistration,
)
from application.mfa.sign_in import CompleteMfaSignIn, SecondFactorGate
from application.mfa.totp import ConfirmTotp, DisableTotp, RegenerateRecoveryCodes, SetupTotp
from application.session_issuer import SessionIssuer
from application.throttle import Throttle

if TYPE_CHECKING:
    from application.wiring import Ports


@dataclass(frozen=True, slots=True, kw_only=True)
class MfaCases:
    gate: SecondFactorGate
    overview: ShowSecondFactors
    setup_totp: SetupTotp
    confirm_totp: ConfirmTotp
    regenerate_recovery_codes: RegenerateRecoveryCodes
    disable_totp: DisableTotp
    complete_sign_in: CompleteMfaSignIn
    start_registration: StartPasskeyRegistration
    finish_registration: FinishPasskeyRegistration
    list_passkeys: ListPasskeys
    remove_passkey: RemovePasskey
    start_passkey_sign_in: StartPasskeySignIn
    finish_passkey_sign_in: FinishPasskeySignIn


def wire_mfa(p: Ports, issuer: SessionIssuer, throttle: Throttle, totp_issuer: str) -> MfaCases:
    factors = SecondFactors(
        totp=p.totp, recovery=p.recovery_codes, box=p.secret_box, otp=p.otp, clock=p.clock
    )
    attempts = MfaAttempts(p.one_time, p.clock)
    return MfaCases(
        gate=SecondFactorGate(factors=factors, passkeys=p.passkeys, attempts=attempts),
        overview=ShowSecondFactors(factors=factors, recovery=p.recovery_codes, passkeys=p.passkeys),
        setup_totp=SetupTotp(
            users=p.users,
            totp=p.totp,
            box=p.secret_box,
            otp=p.otp,
            clock=p.clock,
            issuer_name=totp_issuer,
        ),
        confirm_totp=ConfirmTotp(
            users=p.users, totp=p.totp, factors=factors, clock=p.clock, audit=p.audit
        ),
        regenerate_recovery_codes=RegenerateRecoveryCodes(
            users=p.users,
            factors=factors,
            recovery=p.recovery_codes,
            throttle=throttle,
            clock=p.clock,
            audit=p.audit,
        ),
        disable_totp=DisableTotp(
            users=p.users,
            totp=p.totp,
            factors=factors,
            hasher=p.hasher,
            throttle=throttle,
            audit=p.audit,
        ),
        complete_sign_in=CompleteMfaSignIn(
            users=p.users,
            factors=factors,
            attempts=attempts,
            issuer=issuer,
            throttle=throttle,
            audit=p.audit,
        ),
        start_registration=StartPasskeyRegistration(
            users=p.users,
            passkeys=p.passkeys,
            ceremonies=p.ceremonies,
            challenges=p.one_time,
            clock=p.clock,
        ),
        finish_registration=FinishPasskeyRegistration(
            users=p.users,
            passkeys=p.passkeys,
            ceremonies=p.ceremonies,
            challenges=p.one_time,
            clock=p.clock,
            audit=p.audit,
        ),
        list_passkeys=ListPasskeys(passkeys=p.passkeys),
        remove_passkey=RemovePasskey(passkeys=p.passkeys, audit=p.audit),
        start_passkey_sign_in=StartPasskeySignIn(
            ceremonies=p.ceremonies, challenges=p.one_time, throttle=throttle, clock=p.clock
        ),
        finish_passkey_sign_in=FinishPasskeySignIn(
            users=p.users,
            passkeys=p.passkeys,
            ceremonies=p.ceremonies,
            challenges=p.one_time,
            issuer=issuer,
            clock=p.clock,
            audit=p.audit,
        ),
    )
