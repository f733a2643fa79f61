"""StartOAuth and CompleteOAuth with a fake provider, in-memory stores and the real tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pytest

from application.oauth import (
    CompleteOAuth,
    CompleteOAuthCommand,
    OAuthSecondStep,
    OAuthSignedIn,
    OAuthStarted,
    StartOAuth,
    StartOAuthCommand,
    allowed_return_to,
    s256,
)
from application.throttle import Limits, Throttle
from domain.entities import DEFAULT_ROLE, NewUser, User
from domain.errors import (
    DomainError,
    EmailTaken,
    IdentityProviderError,
    IdentityProviderUnavailable,
    InvalidAccessToken,
    InvalidOAuthState,
    InvalidRefreshToken,
    InvalidReturnTo,
    StorageUnavailable,
    TooManyRequests,
    UnknownProvider,
    UnverifiedEmail,
)
from domain.ports import AuditEvent, ExternalProfile, IdentityProvider
from infrastructure.grants.memory import MemoryGrantStore, MemoryOneTimeStore, MemoryRateLimiter
from tests.fakes.clock import FakeClock
from tests.fakes.repositories import MemoryUserRepository
from tests.unit.test_second_factor_audit import enable
from tests.unit.world import CLIENT, World, build_world

GOOGLE = "https://accounts.google.com"
ALLOWLIST = ("/dashboard", "/app/")
ADA = ExternalProfile(
    issuer=GOOGLE,
    subject="110169484474386276334",
    email="Ada@Example.TEST",
    email_verified=True,
    name="Ada Lovelace",
)


class FakeProvider(IdentityProvider):
    """Acts like a real one where it matters: a code is good once, and only with the
    verifier whose S256 challenge and the nonce it was asked with."""

    def __init__(self, name: str = "google") -> None:
        self.name = name
        self.profile = ADA
        self.outage = False
        self.refusal: str | None = None
        self.asked: dict[str, dict[str, str]] = {}  # code -> what /authorize was given
        self.exchanges: list[str] = []

    async def authorization_url(
        self, *, state: str, nonce: str, code_challenge: str, max_age: int | None = None
    ) -> str:
        if self.outage:
            raise IdentityProviderUnavailable()
        self.asked[self.code_for(state)] = {
            "nonce": nonce,
            "challenge": code_challenge,
            "max_age": str(max_age),
        }
        return f"https://idp.example/{self.name}/authorize?state={state}"

    async def complete(self, *, code: str, code_verifier: str, nonce: str) -> ExternalProfile:
        self.exchanges.append(code)
        if self.outage:
            raise IdentityProviderUnavailable()
        if self.refusal is not None:
            raise IdentityProviderError(self.refusal)
        asked = self.asked.pop(code, None)
        if asked is None or s256(code_verifier) != asked["challenge"]:
            raise IdentityProviderError("invalid_grant")
        if nonce != asked["nonce"]:
            raise IdentityProviderError("invalid_id_token")
        return self.profile

    def code_for(self, state: str) -> str:
        return f"code-{self.name}-{state}"


class CountingStore(MemoryOneTimeStore):
    def __init__(self) -> None:
        super().__init__()
        self.puts: list[tuple[str, bytes, datetime]] = []

    async def put(self, key: str, value: bytes, expires_at: datetime) -> None:
        self.puts.append((key, value, expires_at))
        await super().put(key, value, expires_at)


@dataclass(slots=True)
class Flow:
    world: World
    google: FakeProvider
    other: FakeProvider
    states: CountingStore
    start: StartOAuth
    complete: CompleteOAuth

    async def begin(
        self, return_to: str | None = "/dashboard", provider: str = "google"
    ) -> OAuthStarted:
        return await self.start.execute(
            StartOAuthCommand(provider=provider, client=CLIENT, return_to=return_to)
        )

    def callback(self, started: OAuthStarted, **changes: Any) -> CompleteOAuthCommand:
        """What the browser brings back: its state (in the URL and in its cookie), the code."""
        command = CompleteOAuthCommand(
            provider="google",
            state=started.state,
            browser_state=started.state,
            code=self.google.code_for(started.state),
            client=CLIENT,
        )
        return replace(command, **changes)

    async def finish(self, started: OAuthStarted, **changes: Any) -> OAuthSignedIn:
        result = await self.complete.execute(self.callback(started, **changes))
        assert isinstance(result, OAuthSignedIn), result
        return result

    async def sign_in(self) -> OAuthSignedIn:
        return await self.finish(await self.begin())


def make_flow(
    world: World, trusted_amr: tuple[str, ...] = (), limits: Limits | None = None
) -> Flow:
    google, other = FakeProvider("google"), FakeProvider("other")
    providers = {"google": google, "other": other}
    states = CountingStore()
    return Flow(
        world=world,
        google=google,
        other=other,
        states=states,
        start=StartOAuth(
            providers=providers,
            states=states,
            clock=world.clock,
            allowlist=ALLOWLIST,
            throttle=Throttle(
                limiter=MemoryRateLimiter(),
                limits=limits or Limits(),
                clock=world.clock,
                audit=world.audit,
            ),
        ),
        complete=CompleteOAuth(
            providers=providers,
            states=states,
            users=world.users,
            mail=world.mail,
            issuer=world.issuer,
            proof=world.proof,
            second_factor=world.gate,
            trusted_amr=trusted_amr,
            clock=world.clock,
            audit=world.audit,
        ),
    )


@pytest.fixture
def flow(world: World) -> Flow:
    return make_flow(world)


async def existing_user(
    world: World, email: str = "ada@example.test", *, verified: bool = True
) -> User:
    return await world.users.add(
        NewUser(
            email=email,
            password_hash="fake$secret123",
            name="Ada",
            role=DEFAULT_ROLE,
            created_at=world.clock.now(),
            email_verified_at=world.clock.now() if verified else None,
        )
    )


# --- Start -----------------------------------------------------------------------------------


async def test_start_stores_a_single_use_attempt_for_ten_minutes_and_returns_the_provider_url(
    flow: Flow,
) -> None:
    started = await flow.begin()

    assert (
        started.authorization_url == f"https://idp.example/google/authorize?state={started.state}"
    )
    [(key, _, expires_at)] = flow.states.puts
    assert key == f"oauth:{started.state}"
    assert (expires_at - flow.world.clock.now()).total_seconds() == 600
    [asked] = flow.google.asked.values()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", started.state)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", asked["nonce"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", asked["challenge"])  # S256, unpadded


async def test_every_start_gets_its_own_state_and_nonce(flow: Flow) -> None:
    first, second = await flow.begin(), await flow.begin()

    assert first.state != second.state
    nonces = {asked["nonce"] for asked in flow.google.asked.values()}
    assert len(nonces) == 2


def test_s256_is_the_rfc_7636_challenge() -> None:
    # RFC 7636 Appendix B.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


async def test_an_unknown_provider_is_refused_before_anything_is_stored(flow: Flow) -> None:
    with pytest.raises(UnknownProvider):
        await flow.begin(provider="github")

    assert flow.states.puts == []


async def test_a_provider_outage_at_start_stores_nothing(flow: Flow) -> None:
    flow.google.outage = True

    with pytest.raises(IdentityProviderUnavailable):
        await flow.begin()

    assert flow.states.puts == []


@pytest.mark.parametrize(
    "return_to",
    ["/", "/dashboard", "/dashboard?tab=keys", "/dashboard#top", "/app/", "/app/projects/7"],
)
def test_allowed_return_to(return_to: str) -> None:
    assert allowed_return_to(return_to, ALLOWLIST) == return_to


@pytest.mark.parametrize(
    "return_to",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "evil.example",
        "/other",
        "/dashboard/more",  # "/dashboard" allows itself only; "/app/" allows what is under it
        "/app",
        "/app/../admin",
        "/app/%2e%2e/admin",
        "/app/./x",
        "/dashboard\r\nSet-Cookie: x=1",
        "/dashboard\x00",
        "/dashboard\t",
        "/dashboard x",
        "/dashboard/\u00e9",
        "/app/" + "a" * 600,
        "",
    ],
)
def test_open_redirects_are_refused(return_to: str) -> None:
    with pytest.raises(InvalidReturnTo):
        allowed_return_to(return_to, ALLOWLIST)


async def test_start_refuses_a_return_to_off_the_allowlist_and_defaults_to_the_root(
    flow: Flow,
) -> None:
    with pytest.raises(InvalidReturnTo):
        await flow.begin(return_to="//evil.example")
    assert flow.states.puts == []

    result = await flow.finish(await flow.begin(return_to=None))

    assert result.return_to == "/"


# --- Complete: who signs in ----------------------------------------------------------------


async def test_a_new_person_gets_an_account_without_a_password_and_a_session(flow: Flow) -> None:
    result = await flow.sign_in()

    user = result.signed_in.user
    assert (user.email, user.name, user.password_hash) == (
        "ada@example.test",
        "Ada Lovelace",
        None,
    )
    assert await flow.world.users.get_by_identity(GOOGLE, ADA.subject) == user
    assert result.return_to == "/dashboard"
    claims = await flow.world.claims(result.signed_in.tokens.access_token)
    assert (claims.user_id, claims.session_id) == (user.id, result.signed_in.tokens.session_id)
    [event] = flow.world.audit.named("user_registered")
    assert (event.user_id, event.reason) == (user.id, "oidc:google")


async def test_a_providers_name_with_control_characters_is_not_kept(flow: Flow) -> None:
    """The name rule of every other way in (no control characters: a terminal escape would
    reach the operator's `authgate users show`), for a name another provider chose."""
    flow.google.profile = replace(ADA, name="Ada\x1b]0;owned\x07\x1b[2J")

    result = await flow.sign_in()

    assert result.signed_in.user.name is None


async def test_the_same_subject_signs_in_to_the_same_account(flow: Flow) -> None:
    first = await flow.sign_in()
    flow.google.profile = replace(ADA, email="ada.new@example.test", name="Ada K.")

    second = await flow.sign_in()

    assert second.signed_in.user == first.signed_in.user
    assert second.signed_in.tokens.session_id != first.signed_in.tokens.session_id
    assert len(flow.world.users.users) == 1
    [event] = flow.world.audit.named("login_succeeded")
    assert (event.user_id, event.reason) == (first.signed_in.user.id, "oidc:google")


async def test_a_verified_email_links_to_the_existing_account(flow: Flow) -> None:
    user = await existing_user(flow.world)

    result = await flow.sign_in()

    assert result.signed_in.user == user
    assert result.signed_in.user.password_hash == "fake$secret123"
    assert await flow.world.users.get_by_identity(GOOGLE, ADA.subject) == user
    assert flow.world.audit.named("user_registered") == []
    assert flow.world.audit.named("unverified_credentials_dropped") == []


async def test_a_verified_email_takes_over_an_account_whose_email_was_never_verified(
    flow: Flow,
) -> None:
    user = await existing_user(flow.world, verified=False)
    squatter = await flow.world.sign_in("ada@example.test", "secret123")

    result = await flow.sign_in()

    owner = await flow.world.users.get(user.id)
    assert owner is not None
    assert owner.password_hash is None
    assert owner.email_verified
    assert result.signed_in.user == owner
    with pytest.raises(InvalidAccessToken):
        await flow.world.claims(squatter.tokens.access_token)
    with pytest.raises(InvalidRefreshToken):
        await flow.world.rotate(squatter.tokens.refresh_token)
    [event] = flow.world.audit.named("unverified_credentials_dropped")
    assert (event.user_id, event.reason) == (user.id, "oidc:google")


async def test_an_unverified_email_never_links_to_an_existing_account(flow: Flow) -> None:
    user = await existing_user(flow.world)
    flow.google.profile = replace(ADA, email_verified=False)

    with pytest.raises(UnverifiedEmail):
        await flow.sign_in()

    assert flow.world.users.identities == {}
    assert flow.world.sessions.sessions == {}
    [event] = flow.world.audit.named("login_failed")
    assert (event.user_id, event.reason) == (user.id, "oidc:google:email_not_verified")


async def test_an_unverified_email_creates_no_account_either(flow: Flow) -> None:
    # Else whoever controls an unverified address could pre-claim the account that the
    # address's owner would later be linked to.
    flow.google.profile = replace(ADA, email_verified=False)

    with pytest.raises(UnverifiedEmail):
        await flow.sign_in()

    assert flow.world.users.users == {}


@pytest.mark.parametrize("email", [None, "", "not an email"])
async def test_a_profile_without_a_usable_email_is_refused(flow: Flow, email: str | None) -> None:
    flow.google.profile = replace(ADA, email=email)

    with pytest.raises(IdentityProviderError) as refused:
        await flow.sign_in()

    assert refused.value.provider_code == "email_missing"
    assert flow.world.users.users == {}


async def test_a_known_identity_signs_in_whatever_its_email_says_now(flow: Flow) -> None:
    first = await flow.sign_in()
    flow.google.profile = replace(ADA, email=None, email_verified=False)

    second = await flow.sign_in()

    assert second.signed_in.user == first.signed_in.user


async def test_a_racing_sign_up_with_the_same_email_is_found_on_the_retry(clock: FakeClock) -> None:
    class RacedUsers(MemoryUserRepository):
        async def add(self, user: NewUser, told: AuditEvent | None = None) -> User:
            await super().add(replace(user, name="Raced"))  # the other request got there first
            raise EmailTaken()

    world = build_world(clock, users=RacedUsers())
    flow = make_flow(world)

    result = await flow.sign_in()

    assert result.signed_in.user.name == "Raced"
    assert await world.users.get_by_identity(GOOGLE, ADA.subject) == result.signed_in.user


async def test_a_new_account_is_undone_when_its_session_cannot_be_stored(clock: FakeClock) -> None:
    class DownGrants(MemoryGrantStore):
        async def issue(self, grant: Any, now: datetime) -> None:
            raise StorageUnavailable()

    flow = make_flow(build_world(clock, grants=DownGrants()))

    with pytest.raises(StorageUnavailable):
        await flow.sign_in()

    assert flow.world.users.users == {}
    assert flow.world.users.identities == {}


# --- Complete: the state -------------------------------------------------------------------


async def callback_refused(
    flow: Flow, started: OAuthStarted, expected: type[DomainError], **changes: Any
) -> None:
    with pytest.raises(expected):
        await flow.finish(started, **changes)
    assert flow.google.exchanges == []
    assert flow.world.users.users == {}
    assert flow.world.sessions.sessions == {}


@pytest.mark.parametrize(
    "changes",
    [
        {"state": None},
        {"state": ""},
        {"state": "x" * 43, "browser_state": "x" * 43},  # well-formed, never issued
        {"state": "not a state!"},
        {"browser_state": None},  # another browser: the callback link was handed over
        {"browser_state": "y" * 43},
        {"browser_state": "\u00e9t\u00e9"},
    ],
    ids=[
        "missing",
        "empty",
        "unknown",
        "malformed",
        "no-browser-state",
        "other-browser-state",
        "non-ascii-browser-state",
    ],
)
async def test_a_bad_state_is_refused_without_a_code_exchange(
    flow: Flow, changes: dict[str, Any]
) -> None:
    started = await flow.begin()

    await callback_refused(flow, started, InvalidOAuthState, **changes)


async def test_a_state_is_good_once(flow: Flow) -> None:
    started = await flow.begin()
    await flow.finish(started)

    with pytest.raises(InvalidOAuthState):
        await flow.finish(started)

    assert len(flow.google.exchanges) == 1


async def test_a_state_expires_after_ten_minutes(flow: Flow) -> None:
    started = await flow.begin()
    flow.world.clock.advance(601)

    await callback_refused(flow, started, InvalidOAuthState)


async def test_a_state_issued_for_one_provider_is_refused_by_another(flow: Flow) -> None:
    started = await flow.begin(provider="other")

    await callback_refused(flow, started, InvalidOAuthState)
    assert flow.other.exchanges == []


async def test_a_callback_for_an_unknown_provider_is_refused(flow: Flow) -> None:
    started = await flow.begin()

    await callback_refused(flow, started, UnknownProvider, provider="github")


async def test_a_callback_without_a_code_is_refused(flow: Flow) -> None:
    started = await flow.begin()

    await callback_refused(flow, started, InvalidOAuthState, code=None)


# --- Complete: the provider says no, or is away ---------------------------------------------


async def test_an_error_from_the_provider_is_passed_on_and_uses_up_the_state(flow: Flow) -> None:
    started = await flow.begin()

    with pytest.raises(IdentityProviderError) as refused:
        await flow.finish(started, code=None, error="access_denied", error_description="No.")

    assert refused.value.provider_code == "access_denied"
    assert flow.google.exchanges == []
    [event] = flow.world.audit.named("login_failed")
    assert event.reason == "oidc:google:access_denied"
    with pytest.raises(InvalidOAuthState):
        await flow.finish(started)


@pytest.mark.parametrize(
    "error", ["server_error", "temporarily_unavailable", "invalid_client", "unauthorized_client"]
)
async def test_a_provider_error_that_is_not_the_users_fault_is_unavailable(
    flow: Flow, error: str
) -> None:
    started = await flow.begin()

    await callback_refused(flow, started, IdentityProviderUnavailable, code=None, error=error)


async def test_a_refused_id_token_signs_nobody_in(flow: Flow) -> None:
    flow.google.refusal = "invalid_id_token"

    with pytest.raises(IdentityProviderError) as refused:
        await flow.sign_in()

    assert refused.value.provider_code == "invalid_id_token"
    assert flow.world.users.users == {}
    [event] = flow.world.audit.named("login_failed")
    assert event.reason == "oidc:google:invalid_id_token"


async def test_our_client_credentials_refused_is_an_outage_not_the_users_fault(
    flow: Flow, caplog: pytest.LogCaptureFixture
) -> None:
    flow.google.refusal = "invalid_client"

    with pytest.raises(IdentityProviderUnavailable):
        await flow.sign_in()

    assert any(r.levelname == "ERROR" and "invalid_client" in r.message for r in caplog.records)


async def test_the_verifier_and_nonce_of_the_attempt_reach_the_provider(flow: Flow) -> None:
    # The fake refuses a verifier that does not match the challenge, or another nonce.
    first, second = await flow.begin(), await flow.begin()

    await flow.finish(second)
    await flow.finish(first)

    assert len(flow.google.exchanges) == 2


async def test_a_provider_outage_during_the_exchange_writes_nothing(flow: Flow) -> None:
    started = await flow.begin()
    flow.google.outage = True

    with pytest.raises(IdentityProviderUnavailable):
        await flow.finish(started)

    assert flow.world.users.users == {}
    assert flow.world.sessions.sessions == {}


async def test_one_address_begins_no_more_sign_ins_than_it_may_make(world: World) -> None:
    """Each start stores its state for ten minutes: a loop of starts would fill the store."""
    flow = make_flow(world, limits=Limits(login=1))  # ten sign-ins begun per 5 minutes

    for _ in range(10):
        await flow.begin()
    with pytest.raises(TooManyRequests):
        await flow.begin()

    assert len(flow.states.puts) == 10


# --- Complete: into an account with a second factor ----------------------------------------


@pytest.mark.parametrize(
    ("trusted", "amr", "gated"),
    [
        ((), ("pwd", "mfa"), True),  # an amr counts only from a provider trusted for it
        (("other",), ("mfa",), True),
        (("google",), ("pwd",), True),  # ... and only when it shows a second factor
        (("google",), ("pwd", "mfa"), False),
        (("google",), ("hwk", "user", "mfa"), False),
        # RFC 8176: one method alone is one factor, whatever it is
        (("google",), ("otp",), True),
        (("google",), ("hwk", "user"), True),
    ],
)
async def test_a_providers_amr_stands_for_the_second_factor_only_when_trusted_for_it(
    world: World, trusted: tuple[str, ...], amr: tuple[str, ...], gated: bool
) -> None:
    await enable(world)  # Ada's verified account has an authenticator app
    flow = make_flow(world, trusted_amr=trusted)
    flow.google.profile = replace(ADA, amr=amr)

    result = await flow.complete.execute(flow.callback(await flow.begin()))

    assert isinstance(result, OAuthSecondStep) is gated
    if isinstance(result, OAuthSecondStep):
        assert (result.return_to, result.methods) == ("/dashboard", ("totp", "recovery_code"))
        assert world.audit.named("login_succeeded") == []
