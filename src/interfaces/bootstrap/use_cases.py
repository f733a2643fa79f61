"""Every use case, built once from the ports and policies: one line of arguments per use
case, so a reader sees what each one works with."""

from __future__ import annotations

from dataclasses import dataclass, replace

from application.account import DeleteAccount, ExportAccount
from application.activity import ActivityRecorder, ListActivity
from application.admin.bulk_import import BulkImportUsers
from application.admin.directory import ListUsers, ShowUser
from application.admin.guard import RequireAdmin
from application.admin.roles import SetRole
from application.admin.second_factor import ResetSecondFactor
from application.admin.standing import DeleteUser, DisableUser, EnableUser, UnlockUser
from application.authenticate import Authenticate, GetCurrentUser
from application.breached_passwords import BreachedPasswordCheck
from application.caller_session import CallerSession
from application.devices.notice import NewDeviceNotice
from application.devices.secure import SecureAccount
from application.email.address import ChangeEmail, RequestEmailChange
from application.email.breach_notice import BreachNotice
from application.email.change import ChangePassword, SetPassword
from application.email.messages import MailPolicy
from application.email.queue import MailQueue
from application.email.recovery import ForgotPassword, ResetPassword
from application.email.sender import OutboxSender
from application.email.verification import RequestVerification, VerifyEmail
from application.email_sign_in.complete import EmailSignIn
from application.email_sign_in.grants import SignInGrants
from application.email_sign_in.request import RequestEmailSignIn
from application.erasure import AccountEraser
from application.grant_recovery import RecoverLostGrants
from application.housekeeping import PurgeExpired
from application.introspection import IntrospectionClients, IntrospectToken
from application.login import Login
from application.logout import Logout
from application.mfa.attempts import MfaAttempts
from application.mfa.factors import SecondFactors
from application.mfa.overview import ShowSecondFactors
from application.mfa.passkey_sign_in import (
    FinishPasskeySignIn,
    PasskeyAssertions,
    StartPasskeySignIn,
)
from application.mfa.passkeys import (
    FinishPasskeyRegistration,
    ListPasskeys,
    RemovePasskey,
    StartPasskeyRegistration,
)
from application.mfa.planted import FactorRemoval, MailboxProof
from application.mfa.sign_in import CompleteMfaSignIn, SecondFactorGate
from application.mfa.totp import ConfirmTotp, DisableTotp, RegenerateRecoveryCodes, SetupTotp
from application.oauth import CompleteOAuth, StartOAuth
from application.outbox_loop import OutboxLoop
from application.passkey_sign_up import FinishPasskeySignUp, StartPasskeySignUp
from application.reauthenticate import Reauthenticate, StartPasskeyReauthentication
from application.refresh import RefreshSession
from application.register import AccountOpening, RegisterUser
from application.revocation import SessionRevoker
from application.session_issuer import SessionIssuer
from application.session_policy import SessionPolicy
from application.sessions import ListSessions, RevokeSession, RevokeSessions
from application.signals import (
    CloseSignalStream,
    OpenSignalStream,
    PollSecurityEvents,
    PurgeSecurityEvents,
    ReadSignalStreams,
    SignalReceivers,
)
from application.step_up import StepUp
from application.throttle import Throttle
from application.webhooks.endpoints import ManageWebhooks
from application.webhooks.sender import WebhookSender
from interfaces.bootstrap.ports import Policies, Ports


@dataclass(frozen=True, slots=True, kw_only=True)
class UseCases:
    # signing up and in
    register: RegisterUser
    login: Login
    complete_mfa_sign_in: CompleteMfaSignIn
    start_passkey_sign_in: StartPasskeySignIn
    finish_passkey_sign_in: FinishPasskeySignIn
    start_passkey_sign_up: StartPasskeySignUp
    finish_passkey_sign_up: FinishPasskeySignUp
    start_oauth: StartOAuth
    complete_oauth: CompleteOAuth
    request_email_sign_in: RequestEmailSignIn
    email_sign_in: EmailSignIn
    # proving it again (step-up)
    reauthenticate: Reauthenticate
    start_passkey_reauthentication: StartPasskeyReauthentication
    # the session
    authenticate: Authenticate
    refresh: RefreshSession
    logout: Logout
    current_user: GetCurrentUser
    list_sessions: ListSessions
    revoke_session: RevokeSession
    revoke_sessions: RevokeSessions
    introspect: IntrospectToken
    introspection_clients: IntrospectionClients
    # resource servers told of ended sessions (Shared Signals)
    open_signal_stream: OpenSignalStream
    read_signal_streams: ReadSignalStreams
    close_signal_stream: CloseSignalStream
    poll_security_events: PollSecurityEvents
    signal_receivers: SignalReceivers
    # the mailbox and the password
    request_verification: RequestVerification
    verify_email: VerifyEmail
    request_email_change: RequestEmailChange
    change_email: ChangeEmail
    forgot_password: ForgotPassword
    reset_password: ResetPassword
    change_password: ChangePassword
    secure_account: SecureAccount
    set_password: SetPassword
    # second factors
    second_factors: ShowSecondFactors
    setup_totp: SetupTotp
    confirm_totp: ConfirmTotp
    regenerate_recovery_codes: RegenerateRecoveryCodes
    disable_totp: DisableTotp
    start_passkey_registration: StartPasskeyRegistration
    finish_passkey_registration: FinishPasskeyRegistration
    list_passkeys: ListPasskeys
    remove_passkey: RemovePasskey
    # the account is its user's
    list_activity: ListActivity
    export_account: ExportAccount
    delete_account: DeleteAccount
    # administration
    require_admin: RequireAdmin
    list_users: ListUsers
    show_user: ShowUser
    disable_user: DisableUser
    enable_user: EnableUser
    unlock_user: UnlockUser
    delete_user: DeleteUser
    set_role: SetRole
    import_users: BulkImportUsers
    reset_second_factor: ResetSecondFactor
    # beside the requests (started by the HTTP lifespan, or once by a CLI command)
    send_outboxes: OutboxLoop  # mail and webhooks, a loop each
    manage_webhooks: ManageWebhooks
    recover_grants: RecoverLostGrants
    purge_expired: PurgeExpired
    # every audit event passes here; those of a user are written to its activity
    record_activity: ActivityRecorder


def session_services(
    p: Ports, policy: SessionPolicy, mail: MailPolicy
) -> tuple[SessionRevoker, SessionIssuer]:
    """What ends a session and what starts one, which every sign-in and every end share."""
    revoker = SessionRevoker(
        sessions=p.sessions, grants=p.grants, policy=policy, clock=p.clock, audit=p.audit
    )
    issuer = SessionIssuer(
        users=p.users,
        sessions=p.sessions,
        grants=p.grants,
        access_tokens=p.access_tokens,
        refresh_tokens=p.refresh_tokens,
        clock=p.clock,
        ids=p.ids,
        policy=policy,
        revoker=revoker,
        devices=NewDeviceNotice(
            devices=p.devices,
            queue=MailQueue(mail=p.mail, policy=mail, clock=p.clock),
            policy=mail,
            clock=p.clock,
            audit=p.audit,
        ),
        totp=p.totp,
        audit=p.audit,
    )
    return revoker, issuer


def build(p: Ports, policies: Policies) -> UseCases:
    policy = policies.session
    recorder = ActivityRecorder(audit=p.audit, activity=p.activity, clock=p.clock)
    p = replace(p, audit=recorder)
    authenticate = Authenticate(access_tokens=p.access_tokens, grants=p.grants, clock=p.clock)
    revoker, issuer = session_services(p, policy, policies.mail)
    throttle = Throttle(limiter=p.limiter, limits=policies.limits, clock=p.clock, audit=p.audit)
    queue = MailQueue(mail=p.mail, policy=policies.mail, clock=p.clock)
    factors = SecondFactors(
        totp=p.totp, recovery=p.recovery_codes, box=p.secret_box, otp=p.otp, clock=p.clock
    )
    attempts = MfaAttempts(p.one_time, p.clock)
    assertions = PasskeyAssertions(
        passkeys=p.passkeys,
        ceremonies=p.ceremonies,
        challenges=p.one_time,
        clock=p.clock,
        audit=p.audit,
    )
    step_up = StepUp(
        users=p.users, factors=factors, passkeys=p.passkeys, clock=p.clock, policy=policy
    )
    gate = SecondFactorGate(factors=factors, passkeys=p.passkeys, attempts=attempts)
    notice = BreachNotice(mail=p.mail, policy=policies.mail, clock=p.clock, audit=p.audit)
    caller_session = CallerSession(
        sessions=p.sessions, refresh_tokens=p.refresh_tokens, authenticate=authenticate
    )
    # Removes second factors by when they were enrolled: the mailbox proof's planted ones,
    # "this wasn't me"'s added since the reported sign-in.
    removal = FactorRemoval(totp=p.totp, passkeys=p.passkeys, audit=p.audit, clock=p.clock)
    proof = MailboxProof(users=p.users, factors=removal, revoker=revoker, queue=queue)
    require_verified = policies.mail.require_verified
    breaches = BreachedPasswordCheck(breaches=p.breaches, audit=p.audit)
    sign_in_grants = SignInGrants(p.one_time, p.clock)
    opening = AccountOpening(
        users=p.users,
        issuer=issuer,
        mail=queue,
        require_verified=require_verified,
        audit=p.audit,
    )
    eraser = AccountEraser(administration=p.administration, revoker=revoker, clock=p.clock)
    return UseCases(
        register=RegisterUser(
            users=p.users,
            hasher=p.hasher,
            captcha=p.captcha,
            opening=opening,
            throttle=throttle,
            clock=p.clock,
            breaches=breaches,
        ),
        login=Login(
            users=p.users,
            hasher=p.hasher,
            issuer=issuer,
            throttle=throttle,
            clock=p.clock,
            audit=p.audit,
            second_factor=gate,
            breaches=breaches,
            notice=notice,
            require_verified=require_verified,
        ),
        complete_mfa_sign_in=CompleteMfaSignIn(
            users=p.users,
            factors=factors,
            attempts=attempts,
            issuer=issuer,
            throttle=throttle,
            queue=queue,
            notice=notice,
            clock=p.clock,
            audit=p.audit,
        ),
        start_passkey_sign_in=StartPasskeySignIn(assertions=assertions, throttle=throttle),
        finish_passkey_sign_in=FinishPasskeySignIn(
            users=p.users,
            assertions=assertions,
            passkeys=p.passkeys,
            issuer=issuer,
            audit=p.audit,
            require_verified=require_verified,
        ),
        start_passkey_sign_up=StartPasskeySignUp(
            users=p.users,
            captcha=p.captcha,
            throttle=throttle,
            ceremonies=p.ceremonies,
            challenges=p.one_time,
            clock=p.clock,
        ),
        finish_passkey_sign_up=FinishPasskeySignUp(
            accounts=p.passkey_accounts,
            ceremonies=p.ceremonies,
            challenges=p.one_time,
            opening=opening,
            clock=p.clock,
        ),
        start_oauth=StartOAuth(
            providers=p.identity_providers,
            states=p.one_time,
            clock=p.clock,
            allowlist=policies.return_to_allowlist,
            throttle=throttle,
        ),
        complete_oauth=CompleteOAuth(
            providers=p.identity_providers,
            states=p.one_time,
            users=p.users,
            mail=p.mail,
            issuer=issuer,
            proof=proof,
            second_factor=gate,
            trusted_amr=policies.trusted_amr,
            clock=p.clock,
            audit=p.audit,
        ),
        request_email_sign_in=RequestEmailSignIn(
            users=p.users,
            grants=sign_in_grants,
            queue=queue,
            policy=policies.mail,
            captcha=p.captcha,
            throttle=throttle,
            audit=p.audit,
            sign_up=policies.email_sign_up,
        ),
        email_sign_in=EmailSignIn(
            users=p.users,
            grants=sign_in_grants,
            mail=p.mail,
            proof=proof,
            second_factor=gate,
            issuer=issuer,
            throttle=throttle,
            clock=p.clock,
            audit=p.audit,
        ),
        authenticate=authenticate,
        refresh=RefreshSession(
            sessions=p.sessions,
            grants=p.grants,
            refresh_tokens=p.refresh_tokens,
            issuer=issuer,
            revoker=revoker,
            policy=policy,
            throttle=throttle,
            clock=p.clock,
            audit=p.audit,
        ),
        logout=Logout(caller_session=caller_session, revoker=revoker),
        current_user=GetCurrentUser(authenticate=authenticate, profiles=p.profiles),
        list_sessions=ListSessions(sessions=p.sessions, clock=p.clock),
        revoke_session=RevokeSession(sessions=p.sessions, revoker=revoker, clock=p.clock),
        revoke_sessions=RevokeSessions(revoker=revoker),
        introspect=IntrospectToken(
            authenticate=authenticate, context=policies.introspection.context
        ),
        introspection_clients=IntrospectionClients(policies.introspection.secrets),
        open_signal_stream=OpenSignalStream(
            events=p.security_events, clock=p.clock, policy=policies.signals
        ),
        read_signal_streams=ReadSignalStreams(events=p.security_events),
        close_signal_stream=CloseSignalStream(events=p.security_events),
        poll_security_events=PollSecurityEvents(
            events=p.security_events, signer=p.event_signer, clock=p.clock, policy=policies.signals
        ),
        signal_receivers=SignalReceivers(policies.signals_receivers),
        request_verification=RequestVerification(
            users=p.users, queue=queue, throttle=throttle, audit=p.audit
        ),
        verify_email=VerifyEmail(
            mail=p.mail,
            caller_session=caller_session,
            revoker=revoker,
            proof=proof,
            clock=p.clock,
            audit=p.audit,
        ),
        request_email_change=RequestEmailChange(
            step_up=step_up,
            users=p.users,
            mail=p.mail,
            throttle=throttle,
            policy=policies.mail,
            clock=p.clock,
            audit=p.audit,
        ),
        change_email=ChangeEmail(
            mail=p.mail,
            users=p.users,
            grants=p.grants,
            sessions=p.sessions,
            revoker=revoker,
            caller_session=caller_session,
            proof=proof,
            policy=policies.mail,
            clock=p.clock,
            audit=p.audit,
        ),
        forgot_password=ForgotPassword(
            users=p.users, queue=queue, captcha=p.captcha, throttle=throttle, audit=p.audit
        ),
        reset_password=ResetPassword(
            mail=p.mail,
            hasher=p.hasher,
            proof=proof,
            queue=queue,
            clock=p.clock,
            audit=p.audit,
            breaches=breaches,
        ),
        change_password=ChangePassword(
            step_up=step_up,
            mail=p.mail,
            hasher=p.hasher,
            revoker=revoker,
            throttle=throttle,
            queue=queue,
            clock=p.clock,
            audit=p.audit,
            breaches=breaches,
        ),
        secure_account=SecureAccount(
            mail=p.mail,
            users=p.users,
            factors=removal,
            devices=p.devices,
            revoker=revoker,
            queue=queue,
            policy=policies.mail,
            clock=p.clock,
            audit=p.audit,
        ),
        set_password=SetPassword(
            step_up=step_up,
            mail=p.mail,
            hasher=p.hasher,
            revoker=revoker,
            queue=queue,
            clock=p.clock,
            audit=p.audit,
            breaches=breaches,
        ),
        second_factors=ShowSecondFactors(
            users=p.users, factors=factors, recovery=p.recovery_codes, passkeys=p.passkeys
        ),
        setup_totp=SetupTotp(
            step_up=step_up,
            totp=p.totp,
            box=p.secret_box,
            otp=p.otp,
            clock=p.clock,
            issuer_name=policies.mail.product,
        ),
        confirm_totp=ConfirmTotp(
            step_up=step_up,
            totp=p.totp,
            factors=factors,
            revoker=revoker,
            issuer=issuer,
            grants=p.grants,
            queue=queue,
            clock=p.clock,
            audit=p.audit,
        ),
        regenerate_recovery_codes=RegenerateRecoveryCodes(
            step_up=step_up,
            factors=factors,
            recovery=p.recovery_codes,
            throttle=throttle,
            clock=p.clock,
            audit=p.audit,
        ),
        disable_totp=DisableTotp(
            step_up=step_up,
            totp=p.totp,
            factors=factors,
            hasher=p.hasher,
            throttle=throttle,
            queue=queue,
            audit=p.audit,
            clock=p.clock,
        ),
        start_passkey_registration=StartPasskeyRegistration(
            step_up=step_up,
            passkeys=p.passkeys,
            ceremonies=p.ceremonies,
            challenges=p.one_time,
            clock=p.clock,
        ),
        finish_passkey_registration=FinishPasskeyRegistration(
            step_up=step_up,
            passkeys=p.passkeys,
            ceremonies=p.ceremonies,
            challenges=p.one_time,
            grants=p.grants,
            queue=queue,
            clock=p.clock,
            audit=p.audit,
        ),
        list_passkeys=ListPasskeys(passkeys=p.passkeys),
        remove_passkey=RemovePasskey(
            step_up=step_up, passkeys=p.passkeys, queue=queue, audit=p.audit, clock=p.clock
        ),
        reauthenticate=Reauthenticate(
            users=p.users,
            hasher=p.hasher,
            factors=factors,
            assertions=assertions,
            grants=p.grants,
            issuer=issuer,
            throttle=throttle,
            clock=p.clock,
            audit=p.audit,
        ),
        start_passkey_reauthentication=StartPasskeyReauthentication(
            users=p.users, assertions=assertions, throttle=throttle
        ),
        list_activity=ListActivity(recorder=recorder, activity=p.activity),
        export_account=ExportAccount(
            step_up=step_up,
            administration=p.administration,
            sessions=p.sessions,
            passkeys=p.passkeys,
            totp=p.totp,
            recorder=recorder,
            activity=p.activity,
            mails=p.mail_history,
            clock=p.clock,
            audit=p.audit,
        ),
        delete_account=DeleteAccount(
            step_up=step_up,
            administration=p.administration,
            eraser=eraser,
            queue=queue,
            audit=p.audit,
        ),
        require_admin=RequireAdmin(users=p.users),
        list_users=ListUsers(administration=p.administration),
        show_user=ShowUser(
            users=p.users, administration=p.administration, sessions=p.sessions, clock=p.clock
        ),
        disable_user=DisableUser(
            users=p.users,
            administration=p.administration,
            revoker=revoker,
            clock=p.clock,
            audit=p.audit,
        ),
        enable_user=EnableUser(
            users=p.users, administration=p.administration, clock=p.clock, audit=p.audit
        ),
        unlock_user=UnlockUser(users=p.users, throttle=throttle, audit=p.audit),
        delete_user=DeleteUser(
            users=p.users, administration=p.administration, eraser=eraser, audit=p.audit
        ),
        set_role=SetRole(
            administration=p.administration,
            users=p.users,
            grants=p.grants,
            revoker=revoker,
            clock=p.clock,
            audit=p.audit,
        ),
        import_users=BulkImportUsers(administration=p.administration, clock=p.clock),
        reset_second_factor=ResetSecondFactor(
            users=p.users,
            totp=p.totp,
            passkeys=p.passkeys,
            queue=queue,
            audit=p.audit,
            clock=p.clock,
        ),
        manage_webhooks=ManageWebhooks(
            endpoints=p.webhook_endpoints, policy=policies.webhooks, clock=p.clock, audit=p.audit
        ),
        send_outboxes=OutboxLoop(
            (
                OutboxSender(
                    outbox=p.outbox,
                    mailer=p.mailer,
                    policy=policies.delivery,
                    clock=p.clock,
                    audit=p.audit,
                ),
                WebhookSender(
                    outbox=p.webhook_outbox,
                    transport=p.webhook_transport,
                    policy=policies.webhooks,
                    clock=p.clock,
                    audit=p.audit,
                ),
            ),
            poll_interval=policies.delivery.poll_interval,
            batch=policies.delivery.batch,
        ),
        recover_grants=RecoverLostGrants(
            integrity=p.integrity,
            grants=p.recovery_grants,
            sessions=p.sessions,
            policy=policy,
            clock=p.clock,
            audit=p.audit,
        ),
        purge_expired=PurgeExpired(
            sessions=p.sessions,
            grants=p.expired,
            mail=p.mail,
            outbox=p.outbox,
            webhooks=p.webhook_outbox,
            signals=PurgeSecurityEvents(
                events=p.security_events, clock=p.clock, policy=policies.signals
            ),
            activity=p.activity,
            activity_retention=policies.activity_retention,
            policy=policy,
            clock=p.clock,
        ),
        record_activity=recorder,
    )
