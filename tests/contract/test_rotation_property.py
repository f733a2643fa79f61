"""Random refresh histories: every grant store answers what the domain's rotation rule says.

The reference model is ``rotate_family`` itself plus the bookkeeping every store shares
(one family per session, found by session id; which sessions are denied). Each example is
a random list of steps — sign in (with a first token of generation 0), rotate the
current token, replay
the previous or an older one, present a newer genuine token than the store knows (a
rotation it lost in a failover), present a token of a session that has no family, revoke,
let time pass (within grace, across grace, across the idle timeout, across the absolute
lifetime) — run against one adapter and the model side by side; they must agree on every
answer. And whatever the model says, a newer token is never reuse.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain.assurance import Assurance
from domain.entities import RefreshGrant
from domain.ports import (
    GraceReplay,
    Invalid,
    RefreshGrantStore,
    Rotated,
    Rotation,
    RotationOutcome,
)
from domain.rotation import GrantFamily, rotate_family

SIGNED_IN = Assurance(datetime(2026, 1, 1, tzinfo=UTC), ("pwd",))

BASE = datetime(2026, 1, 1, tzinfo=UTC)
IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=1)
ACCESS = timedelta(minutes=15)
GRACE = timedelta(seconds=10)
MAX_SESSIONS = 3
T = TypeVar("T")


def h(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def successor(token: str) -> str:
    """Derived from the token, as the application does (an HMAC there)."""
    return hashlib.sha256(f"next:{token}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Issue:
    pass


@dataclass(frozen=True)
class RotateCurrent:
    session: int | None  # None: the one last acted on


@dataclass(frozen=True)
class ReplayPrevious:
    session: int | None  # None: the one last acted on
    same_successor: bool  # False: a client asking another successor than the first call got


@dataclass(frozen=True)
class ReplayOlder:
    session: int | None  # None: the one last acted on
    back: int  # generations behind the current token, at least two


@dataclass(frozen=True)
class PresentNewer:
    session: int | None  # None: the one last acted on
    ahead: int  # generations past the current token: minted by rotations the store lost


@dataclass(frozen=True)
class PresentUnknown:
    pass


@dataclass(frozen=True)
class Revoke:
    session: int | None  # None: the one last acted on


@dataclass(frozen=True)
class Advance:
    by: timedelta


Step = (
    Issue
    | RotateCurrent
    | ReplayPrevious
    | ReplayOlder
    | PresentNewer
    | PresentUnknown
    | Revoke
    | Advance
)


def _us(low: timedelta, high: timedelta) -> st.SearchStrategy[timedelta]:
    micro = timedelta(microseconds=1)
    return st.integers(low // micro, high // micro).map(lambda us: timedelta(microseconds=us))


def weighted(*choices: tuple[int, st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """One of the strategies, each as often as its weight (``one_of`` weighs them alike)."""
    return st.sampled_from([s for weight, s in choices for _ in range(weight)]).flatmap(lambda s: s)


ADVANCES = weighted(
    (3, _us(timedelta(0), GRACE)),  # within grace
    (2, _us(timedelta(minutes=1), IDLE - timedelta(seconds=1))),  # within idle: sessions live on
    (1, _us(GRACE, 3 * GRACE)),  # across grace
    (1, _us(IDLE - timedelta(seconds=1), IDLE + timedelta(minutes=5))),  # across idle
    (1, _us(ABSOLUTE - timedelta(minutes=1), ABSOLUTE + timedelta(minutes=1))),  # across absolute
    (1, st.sampled_from([GRACE, IDLE, ABSOLUTE])),  # exactly on a boundary
)
# An index taken modulo the sessions signed in so far, or None: the one last acted on.
SESSIONS = st.one_of(st.none(), st.integers(0, MAX_SESSIONS - 1))
# Weighted towards what keeps sessions alive and rotating, so histories get interesting.
STEPS: st.SearchStrategy[Step] = weighted(
    (4, st.builds(RotateCurrent, SESSIONS)),
    (3, st.builds(ReplayPrevious, SESSIONS, st.sampled_from([True, True, False]))),
    (3, st.builds(Advance, ADVANCES)),
    (2, st.just(Issue())),
    (1, st.builds(ReplayOlder, SESSIONS, st.integers(2, 4))),
    (1, st.builds(PresentNewer, SESSIONS, st.integers(1, 5))),
    (1, st.just(PresentUnknown())),
    (1, st.builds(Revoke, SESSIONS)),
)


@dataclass
class Model:
    """A grant store as the domain's rule says it behaves."""

    families: dict[str, GrantFamily] = field(default_factory=dict)
    denied: dict[str, datetime] = field(default_factory=dict)

    def issue(self, grant: RefreshGrant) -> None:
        self.families[grant.session_id] = GrantFamily.issued(grant)

    def rotate(self, rotation: Rotation) -> RotationOutcome:
        before = self.families.get(rotation.session_id)
        step = rotate_family(before, rotation)
        if before is not None:
            if step.deny_until is not None:
                self.denied[before.session_id] = step.deny_until
            if step.family is None:
                del self.families[before.session_id]
            else:
                self.families[before.session_id] = step.family
        return step.outcome

    def revoke(self, session_id: str, deny_until: datetime) -> bool:
        self.denied[session_id] = deny_until
        return self.families.pop(session_id, None) is not None

    def is_denied(self, session_id: str, now: datetime) -> bool:
        return self.denied.get(session_id, now) > now


@dataclass
class History:
    """One example: the store, the model, the clock, and the tokens each client holds."""

    store: RefreshGrantStore
    grace: timedelta
    model: Model = field(default_factory=Model)
    now: datetime = BASE
    name: str = field(default_factory=lambda: secrets.token_hex(4))  # examples share a store
    user_id: int = field(default_factory=lambda: secrets.randbelow(2**31))
    # per session, oldest first: each token with its generation
    tokens: list[list[tuple[str, int]]] = field(default_factory=list)
    foreign: int = 0
    last: int = 0  # the session last signed in or acted on

    async def run(self, step: Step) -> None:
        match step:
            case Issue():
                await self.issue()
            case RotateCurrent(k):
                await self.present(self.pick(k), back=0)
            case ReplayPrevious(k, same):
                await self.present(self.pick(k), back=1, same_successor=same)
            case ReplayOlder(k, back):
                await self.present(self.pick(k), back=back)
            case PresentNewer(k, ahead):
                await self.present_newer(self.pick(k), ahead)
            case PresentUnknown():
                await self.rotate(
                    f"{self.name}-unknown",
                    (f"{self.name}-unknown", 0),
                    f"{self.name}-unknown-next",
                )
            case Revoke(k):
                sid = self.session_id(self.pick(k))
                expected = self.model.revoke(sid, self.now + ACCESS)
                assert await self.store.revoke_session(sid, self.now + ACCESS) == expected
            case Advance(by):
                self.now += by
        await self.check_sessions()

    async def issue(self) -> None:
        # A sign-in's sweep of expired deny markers (SQL) changes no answer: sign in at
        # any time.
        if len(self.tokens) == MAX_SESSIONS:
            return
        self.last = len(self.tokens)
        first = f"{self.session_id(self.last)}-t0"
        self.tokens.append([(first, 0)])
        grant = RefreshGrant(
            session_id=self.session_id(self.last),
            user_id=self.user_id,
            token_hash=h(first),
            idle_expires_at=self.now + IDLE,
            absolute_expires_at=self.now + ABSOLUTE,
            assurance=SIGNED_IN,
        )
        self.model.issue(grant)
        await self.store.issue(grant, self.now)

    def pick(self, k: int | None) -> int:
        self.last = self.last if k is None else k % len(self.tokens)
        return self.last

    async def present(self, k: int, *, back: int, same_successor: bool = True) -> None:
        """Present session ``k``'s token of ``back`` generations ago, if it has one."""
        tokens = self.tokens[k]
        if back >= len(tokens):
            return
        token = tokens[-1 - back]
        if same_successor:
            next_token = successor(token[0])
        else:
            self.foreign += 1
            next_token = f"{self.name}-foreign-{self.foreign}"
        outcome = await self.rotate(self.session_id(k), token, next_token)
        if isinstance(outcome, Rotated):
            tokens.append((next_token, token[1] + 1))
        if isinstance(outcome, GraceReplay):
            # the replay hands out the very token the first call got, and it is current
            assert next_token == tokens[-1][0]

    async def present_newer(self, k: int, ahead: int) -> None:
        """A genuine token ``ahead`` generations past session ``k``'s current one, minted
        by rotations the store lost: whatever else, never reuse, never a revocation."""
        name, generation = self.tokens[k][-1]
        for _ in range(ahead):  # the very tokens the lost rotations handed the client
            name, generation = successor(name), generation + 1
        lost = (name, generation)
        denied = self.model.is_denied(self.session_id(k), self.now)
        outcome = await self.rotate(self.session_id(k), lost, successor(lost[0]))
        assert isinstance(outcome, Invalid)
        assert await self.store.is_denied(self.session_id(k), self.now) == denied

    async def rotate(
        self, session_id: str, presented: tuple[str, int], next_token: str
    ) -> RotationOutcome:
        rotation = Rotation(
            session_id=session_id,
            presented_hash=h(presented[0]),
            presented_generation=presented[1],
            successor_hash=h(next_token),
            now=self.now,
            idle_ttl=IDLE,
            grace=self.grace,
            deny_until=self.now + ACCESS,
        )
        expected = self.model.rotate(rotation)
        outcome = await self.store.rotate(rotation)
        assert outcome == expected
        event(
            repr(outcome).split("(")[0]
            + (f" {outcome.reason}" if isinstance(outcome, Invalid) else "")
        )
        return outcome

    async def check_sessions(self) -> None:
        for k in range(len(self.tokens)):
            sid = self.session_id(k)
            assert await self.store.is_denied(sid, self.now) == self.model.is_denied(sid, self.now)

    def session_id(self, k: int) -> str:
        return f"{self.name}-s{k}"


@settings(
    max_examples=50,
    deadline=None,
    database=None,  # nothing written into the work tree; a failure prints its steps
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # one store, fresh names
)
@given(
    grace=st.sampled_from([GRACE, GRACE, timedelta(0)]),
    steps=st.lists(STEPS, min_size=15, max_size=40).map(lambda s: [Issue(), *s]),
)
async def test_every_store_follows_the_rotation_rule_through_random_histories(
    grant_store: RefreshGrantStore, grace: timedelta, steps: list[Step]
) -> None:
    history = History(grant_store, grace)
    for step in steps:
        await history.run(step)
    event(f"steps: {len(steps) // 10 * 10}+")
