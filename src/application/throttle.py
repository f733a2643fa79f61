"""Brute-force limits (OWASP ASVS V6.3.5, OWASP Authentication Cheat Sheet).

Login is limited per client IP and per account *from that IP*: an attacker elsewhere can
never lock the real owner out, and repeated failures back off in tiers that grow roughly
exponentially (limit per 5 min, 2x limit per hour, 4x limit per day).

Codes of a second step are also capped per account across every IP (``mfa_failures`` a day):
someone who has the password and many addresses gets no more guesses for it (ASVS 5.0
V6.3.1, OWASP MFA Cheat Sheet). Every code tried counts, a right one too (an owner signs in
a handful of times a day), so parallel guesses cannot slip past it; past it, the second step
answers 429 to everyone until the day is over or an operator unlocks the account.

The IP cap counts every attempt. The account tiers count failed ones (OWASP Authentication
Cheat Sheet, "Account Lockout": the counter is of failed logins): each attempt is counted
before the password is checked, in the one atomic step that also refuses it, so parallel
guesses cannot slip past the limit; a success then clears the account's tiers, since the
owner has proven the password. Signing in on several devices never locks anyone out.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from application.client import ClientInfo, audit_event
from application.compensation import quietly
from domain.errors import TooManyRequests
from domain.ports import AuditLog, Clock, RateLimit, RateLimiter

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    login: int = 10  # failed logins per account and IP per 5 min; any attempt per IP: 10x
    register: int = 10  # per IP per hour
    refresh: int = 60  # per IP per minute
    forgot: int = 5  # password reset mails per account per hour; any per IP: 4x
    verification: int = 3  # verification mails asked for per user per hour
    mfa_failures: int = 50  # codes (second step, mailed) per account per day, from any IP


MailAsked = Literal["forgot", "signin-mail"]


class Throttle:
    def __init__(self, *, limiter: RateLimiter, limits: Limits, clock: Clock, audit: AuditLog):
        self._limiter = limiter
        self._limits = limits
        self._clock = clock
        self._audit = audit

    async def login(self, email: str, client: ClientInfo) -> None:
        ip = _network(client)
        await self._hit_all(
            [
                RateLimit(key=f"login:ip:{ip}", limit=10 * self._limits.login, window=5 * MINUTE),
                *self._account_tiers(email, client),
            ],
            client,
        )

    async def login_succeeded(self, email: str, client: ClientInfo) -> None:
        """Take the account's counted attempts back: only failures stay counted."""
        keys = [tier.key for tier in self._account_tiers(email, client)]
        await quietly(self._limiter.reset_all(keys))

    def _account_tiers(self, email: str, client: ClientInfo) -> list[RateLimit]:
        """The account's failed logins from the client's network, in tiers; from an IPv6
        client, from its site too (the /48 around it, ``SITE_FACTOR`` times as many): an end
        site is given a /56 or a /48 (RFC 6177), and counted per /64 alone it would have 256
        or 65,536 budgets of guesses at one account (a /48 is free from tunnel brokers)."""
        limit, account = self._limits.login, _account(email)
        tiers = ((limit, 5 * MINUTE), (2 * limit, HOUR), (4 * limit, 24 * HOUR))
        networks = [(_network(client), 1)]
        site = _site(client)
        if site is not None:
            networks.append((site, SITE_FACTOR))
        return [
            RateLimit(
                key=f"login:account:{tier}:{account}:{where}", limit=factor * count, window=window
            )
            for where, factor in networks
            for tier, (count, window) in enumerate(tiers)
        ]

    async def second_factor(self, email: str, client: ClientInfo) -> None:
        """One code tried for the account, from wherever: past the day's cap, 429."""
        await self._hit(_codes_key(email), self._limits.mfa_failures, DAY, client)

    async def mailed_code(self, email: str, client: ClientInfo) -> None:
        """One mailed sign-in code tried for the account, from wherever: a cap of its own
        (``mfa_failures`` a day), so guesses at mailed codes never use up the app's."""
        await self._hit(_mailed_codes_key(email), self._limits.mfa_failures, DAY, client)

    async def first_code_lock_today(self, email: str) -> bool:
        """True once a day per account: its owner is told of the cap once, not per refusal."""
        key = f"mfa:told:{_account(email)}"
        return await self._limiter.hit(key, 1, DAY, self._clock.now()) is None

    async def sign_in_begun(self, client: ClientInfo) -> None:
        """A sign-in begun that names no account yet (a passkey's challenge, a provider's
        state; a passkey re-authentication's challenge): only the IP cap of every login
        applies. Each stores a record, so one address begins no more than it may make."""
        ip = _network(client)
        await self._hit(f"login:ip:{ip}", 10 * self._limits.login, 5 * MINUTE, client)

    async def email_link(self, client: ClientInfo) -> None:
        """A mailed link names no account until it is spent (and its 256 bits are not
        guessed): the IP cap of every login applies."""
        await self.sign_in_begun(client)

    async def unlock(self, email: str) -> None:
        """An operator lifts the account's login limits, from every IP at once."""
        account = _account(email)
        for tier in range(3):
            await self._limiter.reset_prefix(f"login:account:{tier}:{account}:")
        await self._limiter.reset_all([_codes_key(email), _mailed_codes_key(email)])

    async def register(self, client: ClientInfo) -> None:
        await self._hit(f"register:ip:{_network(client)}", self._limits.register, HOUR, client)

    async def refresh(self, client: ClientInfo) -> None:
        limit = self.refresh_limit(client)
        await self._hit(limit.key, limit.limit, limit.window, client)

    def refresh_limit(self, client: ClientInfo) -> RateLimit:
        """The refresh hit, for a store that counts it in the rotation's own round trip."""
        key = f"refresh:ip:{_network(client)}"
        return RateLimit(key=key, limit=self._limits.refresh, window=MINUTE)

    def refuse(self, key: str, wait: int, client: ClientInfo) -> TooManyRequests:
        audit_event(self._audit, "rate_limited", client, reason=key.split(":", 2)[0])
        return TooManyRequests(wait)

    async def mails_asked_from(self, kind: MailAsked, client: ClientInfo) -> None:
        """An address asking for reset or sign-in mails (four accounts' worth an hour):
        counted before the captcha, so it bounds the captcha checks one address makes."""
        ip = _network(client)
        await self._hit(f"{kind}:ip:{ip}", 4 * self._limits.forgot, HOUR, client)

    async def mails_asked_for(self, kind: MailAsked, email: str, client: ClientInfo) -> None:
        """Reset or sign-in mails asked for one account (AUTH_FORGOT_LIMIT an hour each),
        whether or not it exists, so a 429 reveals nothing and nobody floods a mailbox.
        Counted once the captcha passed: failed captchas must not use up the owner's own
        requests (a lockout of the account's recovery for free)."""
        await self._hit(f"{kind}:account:{_account(email)}", self._limits.forgot, HOUR, client)

    async def verification(self, user_id: int, client: ClientInfo) -> None:
        await self._hit(f"verify:user:{user_id}", self._limits.verification, HOUR, client)

    async def email_change(self, user_id: int, client: ClientInfo) -> None:
        """Links to a new address, as many as verification mails but counted apart: typos
        in a new address must not keep the user from a verification mail. Any address of
        the user's choice gets one: each IP asks for 4x one account's, as at forgot
        password, so throwaway accounts do not make a mail cannon."""
        limit = self._limits.verification
        await self._hit_all(
            [
                RateLimit(key=f"email-change:ip:{_network(client)}", limit=4 * limit, window=HOUR),
                RateLimit(key=f"email-change:user:{user_id}", limit=limit, window=HOUR),
            ],
            client,
        )

    async def _hit_all(self, hits: list[RateLimit], client: ClientInfo) -> None:
        """Every hit of one attempt in one round trip, the first refusal answered."""
        refused = await self._limiter.hit_all(hits, self._clock.now())
        if refused is not None:
            raise self.refuse(refused[0], refused[1], client)

    async def _hit(self, key: str, limit: int, window: timedelta, client: ClientInfo) -> None:
        wait = await self._limiter.hit(key, limit, window, self._clock.now())
        if wait is not None:
            raise self.refuse(key, wait, client)


def _network(client: ClientInfo) -> str:
    """What a per-address limit counts: the IPv4 address, or the IPv6 /64 around the address
    (one host, a VPS or a home line, is given a whole /64: 2^64 addresses to take one per
    attempt from). OWASP Authentication Cheat Sheet, "Login Throttling"; RFC 6177 (an end
    site is given at least a /64, often a /56 or a /48). The logs keep the address itself."""
    if not client.ip_address:
        return "unknown"
    try:
        address = ipaddress.ip_address(client.ip_address)
    except ValueError:
        return client.ip_address
    if address.version == 4:
        return client.ip_address
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    if address in _NAT64:  # an IPv4 client through a translator (RFC 6052): its own address
        return str(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return str(ipaddress.IPv6Network((address, 64), strict=False))


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


# How many networks' worth of failed logins an IPv6 site (a /48) may make at one account.
SITE_FACTOR = 4


def _site(client: ClientInfo) -> str | None:
    """The /48 around an IPv6 client's /64 (None for IPv4, and for IPv4 carried in IPv6)."""
    try:
        network = ipaddress.ip_network(_network(client))
    except ValueError:
        return None
    if network.version == 4:
        return None
    return str(network.supernet(new_prefix=48))


def _codes_key(email: str) -> str:
    return f"mfa:account:{_account(email)}"


def _mailed_codes_key(email: str) -> str:
    return f"signin-code:account:{_account(email)}"


def _account(email: str) -> str:
    # Hashed: the key's size stays fixed whatever was typed, and no email sits in it.
    return hashlib.sha256(email.strip().lower().encode("utf-8", "replace")).hexdigest()
