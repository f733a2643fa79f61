from __future__ import annotations

import pytest

from application.client import ClientInfo
from application.login import LoginCommand
from application.refresh import RefreshCommand
from application.register import RegisterCommand
from application.throttle import SITE_FACTOR, Limits, Throttle
from domain.errors import InvalidCredentials, TooManyRequests
from infrastructure.grants.memory import MemoryRateLimiter
from tests.fakes.clock import FakeClock
from tests.fakes.security import RecordingAudit
from tests.unit.world import CLIENT, PASSWORD, World, build_world

ELSEWHERE = ClientInfo(ip_address="198.51.100.9", user_agent="pytest")


@pytest.fixture
def strict(clock: FakeClock) -> World:
    return build_world(clock, limits=Limits(login=2, register=1, refresh=2))


async def test_too_many_logins_for_an_account_are_too_many_requests(strict: World) -> None:
    await strict.sign_up()
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            await strict.sign_in(password="wrong password")

    with pytest.raises(TooManyRequests) as limited:
        await strict.sign_in()

    assert 1 <= limited.value.retry_after <= 300
    [event] = strict.audit.named("rate_limited")
    assert (event.reason, event.ip_address) == ("login", CLIENT.ip_address)
    assert strict.hasher.verify_calls == 2


async def test_the_account_limit_does_not_lock_out_the_owner_elsewhere(strict: World) -> None:
    await strict.sign_up()
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            await strict.sign_in(password="wrong password")

    signed_in = await strict.login.execute(
        LoginCommand(email="ada@example.test", password=PASSWORD, client=ELSEWHERE)
    )

    assert signed_in.user.email == "ada@example.test"


async def test_the_login_limit_counts_the_account_whatever_its_case(strict: World) -> None:
    await strict.sign_up()
    for email in ("ada@example.test", "ADA@example.test"):
        with pytest.raises(InvalidCredentials):
            await strict.sign_in(email, "wrong password")

    with pytest.raises(TooManyRequests):
        await strict.sign_in(" Ada@Example.Test ")


async def test_the_login_limit_lifts_after_its_window(strict: World) -> None:
    await strict.sign_up()
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            await strict.sign_in(password="wrong password")
    strict.clock.advance(5 * 60)

    await strict.sign_in()


async def test_too_many_registrations_from_one_address_write_nothing(strict: World) -> None:
    await strict.sign_up("ada@example.test")

    with pytest.raises(TooManyRequests):
        await strict.sign_up("bob@example.test")

    assert [u.email for u in strict.users.users.values()] == ["ada@example.test"]


async def test_too_many_refreshes_from_one_address_are_too_many_requests(strict: World) -> None:
    token = (await strict.sign_up()).tokens.refresh_token
    for _ in range(2):
        token = (await strict.rotate(token)).refresh_token

    with pytest.raises(TooManyRequests):
        await strict.rotate(token)

    other = await strict.refresh.execute(RefreshCommand(refresh_token=token, client=ELSEWHERE))
    assert other.refresh_token != token


async def test_good_logins_do_not_count_toward_the_account_limit(world: World) -> None:
    await world.sign_up()
    for _ in range(3):
        await world.sign_in()
    for _ in range(7):
        with pytest.raises(InvalidCredentials):
            await world.sign_in(password="wrong password")

    with pytest.raises(InvalidCredentials):  # the eleventh attempt: still no 429
        await world.sign_in(password="wrong password")
    await world.sign_in()


async def test_a_good_login_clears_the_failures_before_it(strict: World) -> None:
    await strict.sign_up()
    with pytest.raises(InvalidCredentials):
        await strict.sign_in(password="wrong password")
    await strict.sign_in()

    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            await strict.sign_in(password="wrong password")
    with pytest.raises(TooManyRequests):
        await strict.sign_in()


async def test_ten_wrong_passwords_still_lock_the_account_from_that_address(
    world: World,
) -> None:
    await world.sign_up()
    for _ in range(10):
        with pytest.raises(InvalidCredentials):
            await world.sign_in(password="wrong password")

    with pytest.raises(TooManyRequests):
        await world.sign_in()
    assert world.hasher.verify_calls == 10


async def test_the_per_address_cap_counts_good_logins_too(strict: World) -> None:
    await strict.sign_up()
    for _ in range(10 * 2):  # the cap of one address is ten times the account limit
        await strict.sign_in()

    with pytest.raises(TooManyRequests):
        await strict.sign_in()
    [event] = strict.audit.named("rate_limited")
    assert event.reason == "login"


async def test_an_operators_unlock_lifts_the_accounts_daily_cap_on_codes(clock: FakeClock) -> None:
    limits = Limits(mfa_failures=1)
    throttle = Throttle(
        limiter=MemoryRateLimiter(), limits=limits, clock=clock, audit=RecordingAudit()
    )
    await throttle.second_factor("ada@example.test", CLIENT)
    await throttle.mailed_code("ada@example.test", CLIENT)
    with pytest.raises(TooManyRequests):
        await throttle.second_factor("Ada@example.test", ELSEWHERE)
    with pytest.raises(TooManyRequests):
        await throttle.mailed_code("Ada@example.test", ELSEWHERE)

    await throttle.unlock("ada@example.test")

    await throttle.second_factor("ada@example.test", ELSEWHERE)
    await throttle.mailed_code("ada@example.test", ELSEWHERE)


def from_ipv6(address: str) -> LoginCommand:
    client = ClientInfo(ip_address=address, user_agent="pytest")
    return LoginCommand(email="ada@example.test", password="wrong password", client=client)


async def test_an_ipv6_host_is_limited_by_its_64_not_by_each_of_its_addresses(
    strict: World,
) -> None:
    """One host (a VPS, a home line) is given a whole /64: 2^64 addresses to take one each
    from. The limits count the /64, as they count one IPv4 address."""
    await strict.sign_up()
    for host in ("2001:db8:1:2::a", "2001:db8:1:2:ffff::b"):
        with pytest.raises(InvalidCredentials):
            await strict.login.execute(from_ipv6(host))

    with pytest.raises(TooManyRequests):
        await strict.login.execute(from_ipv6("2001:db8:1:2:1234:5678:9abc:def0"))
    with pytest.raises(InvalidCredentials):  # another /64 is another network
        await strict.login.execute(from_ipv6("2001:db8:1:3::a"))
    [event] = strict.audit.named("rate_limited")
    assert event.ip_address == "2001:db8:1:2:1234:5678:9abc:def0"  # the log keeps the address


async def test_sign_ups_from_one_ipv6_64_share_its_limit(strict: World) -> None:
    client = ClientInfo(ip_address="2001:db8:7::1", user_agent="pytest")
    await strict.register.execute(
        RegisterCommand(
            email="one@example.test",
            password=PASSWORD,
            name=None,
            captcha_token=None,
            client=client,
        )
    )
    with pytest.raises(TooManyRequests):
        await strict.register.execute(
            RegisterCommand(
                email="two@example.test",
                password=PASSWORD,
                name=None,
                captcha_token=None,
                client=ClientInfo(ip_address="2001:db8:7::2", user_agent="pytest"),
            )
        )


async def test_ipv4_clients_through_a_nat64_translator_are_told_apart(strict: World) -> None:
    """Behind a NAT64 gateway (RFC 6052) every IPv4 client arrives in 64:ff9b::/96: each is
    its embedded IPv4 address, not one shared /64."""
    await strict.sign_up()
    for client in ("64:ff9b::c633:6401", "64:ff9b::c633:6401"):  # 198.51.100.1, twice
        with pytest.raises(InvalidCredentials):
            await strict.login.execute(from_ipv6(client))
    with pytest.raises(InvalidCredentials):  # 198.51.100.2: another client
        await strict.login.execute(from_ipv6("64:ff9b::c633:6402"))


async def test_the_64s_of_one_ipv6_site_share_a_larger_limit_at_one_account(
    strict: World,
) -> None:
    """A site is given a /56 or a /48 (RFC 6177): counted per /64 alone, one delegation had
    256 or 65,536 budgets of guesses at one account. Its /48 counts them all, at
    ``SITE_FACTOR`` times one network's limit; another site is not held back by it."""
    await strict.sign_up()
    limit = 2  # the strict world's login limit
    for n in range(SITE_FACTOR):  # each /64 of the site up to its own limit
        for _ in range(limit):
            with pytest.raises(InvalidCredentials):
                await strict.login.execute(from_ipv6(f"2001:db8:1:{n:x}::a"))

    with pytest.raises(TooManyRequests):  # a fresh /64 of the same /48
        await strict.login.execute(from_ipv6("2001:db8:1:ff::a"))
    with pytest.raises(InvalidCredentials):  # another site
        await strict.login.execute(from_ipv6("2001:db8:2::a"))


async def test_the_owners_sign_in_takes_back_the_failures_counted_for_its_site(
    strict: World,
) -> None:
    await strict.sign_up()
    limit = 2  # the strict world's login limit
    for n in range(SITE_FACTOR):
        for _ in range(limit - 1):
            with pytest.raises(InvalidCredentials):
                await strict.login.execute(from_ipv6(f"2001:db8:1:{n:x}::a"))
    client = ClientInfo(ip_address="2001:db8:1:ff::a", user_agent="pytest")
    await strict.login.execute(
        LoginCommand(email="ada@example.test", password=PASSWORD, client=client)
    )

    for n in range(SITE_FACTOR):  # the site's count starts again; each /64 keeps its own
        with pytest.raises(InvalidCredentials):
            await strict.login.execute(from_ipv6(f"2001:db8:1:{n:x}::a"))
