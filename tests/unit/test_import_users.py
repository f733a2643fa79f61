from __future__ import annotations

import json

import pytest

from tests.unit.world import PASSWORD, World

BCRYPT = "$2b$12$" + "R9h/cIPz0gi.URNNX3kh2O" + "PST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"
ARGON2 = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g"


def with_cost(cost: int) -> str:
    return BCRYPT.replace("$12$", f"${cost:02d}$")


def argon2_with(params: str) -> str:
    return ARGON2.replace("m=19456,t=2,p=1", params)


def line(**record: object) -> str:
    return json.dumps(record)


async def test_import_keeps_legacy_hashes_and_normalises_emails(world: World) -> None:
    report = await world.import_users.execute(
        [
            line(email=" Ada@Example.TEST ", password_hash=BCRYPT, name="Ada"),
            "",
            line(email="root@example.test", password_hash=ARGON2, role="admin"),
        ]
    )

    assert (report.imported, report.problems) == (2, [])
    ada = await world.users.get_by_email("ada@example.test")
    root = await world.users.get_by_email("root@example.test")
    assert ada is not None
    assert (ada.password_hash, ada.name, ada.role) == (BCRYPT, "Ada", "user")
    assert root is not None
    assert (root.password_hash, root.is_admin) == (ARGON2, True)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        (line(password_hash=BCRYPT), "email is missing"),
        (line(email="ada@example.test", password_hash="plaintext"), "password_hash"),
        (line(email="ada@example.test", password_hash=BCRYPT, name="n" * 201), "name"),
        (line(email="ada@example.test", password_hash=BCRYPT, role="root"), "role"),
        (line(email="ada@example.test", password_hash=BCRYPT, name="\x1b]0;x\x07"), "control"),
        (line(email="not-an-email", password_hash=BCRYPT), "email must be a valid"),
        (line(email="ada@example.test", password_hash=with_cost(13)), "between 4 and 12"),
        (line(email="ada@example.test", password_hash=with_cost(3)), "between 4 and 12"),
        # libsodium's "sensitive": 1 GiB, 4 passes, seconds a check
        (line(email="ada@example.test", password_hash=argon2_with("m=1048576,t=4,p=1")), "m="),
        (line(email="ada@example.test", password_hash=argon2_with("m=19456,t=300,p=1")), "m="),
        (line(email="ada@example.test", password_hash=argon2_with("m=19456,t=2,p=64")), "p="),
    ],
    ids=[
        "json",
        "array",
        "no-email",
        "plain-hash",
        "long-name",
        "role",
        "control-characters",
        "bad-email",
        "bcrypt-cost-13",
        "bcrypt-cost-3",
        "argon2-1-GiB",
        "argon2-300-passes",
        "argon2-64-lanes",
    ],
)
async def test_import_reports_a_bad_line_and_writes_nothing_for_it(
    world: World, raw: str, problem: str
) -> None:
    report = await world.import_users.execute([raw])

    assert report.imported == 0
    [reported] = report.problems
    assert reported.startswith("line 1: ")
    assert problem in reported
    assert world.users.users == {}


async def test_import_skips_an_existing_email_and_goes_on(world: World) -> None:
    await world.sign_up("ada@example.test")

    report = await world.import_users.execute(
        [
            line(email="ADA@example.test", password_hash=BCRYPT),
            line(email="bob@example.test", password_hash=BCRYPT),
        ]
    )

    assert report.imported == 1
    assert report.problems == ["line 1: email already exists, skipped"]
    ada = await world.users.get_by_email("ada@example.test")
    assert ada is not None
    assert ada.password_hash == "fake$" + PASSWORD


@pytest.mark.parametrize(
    "params", ["m=19456,t=2,p=1", "m=102400,t=2,p=8", "m=65536,t=2,p=1", "m=47104,t=1,p=1"]
)  # ours, Django's defaults, libsodium's "interactive", OWASP's first
async def test_import_accepts_argon2_costs_of_the_usual_presets(world: World, params: str) -> None:
    report = await world.import_users.execute(
        [line(email="ada@example.test", password_hash=argon2_with(params))]
    )

    assert (report.imported, report.problems) == (1, [])


@pytest.mark.parametrize("cost", [4, 10, 12])
async def test_import_accepts_bcrypt_costs_up_to_twelve(world: World, cost: int) -> None:
    report = await world.import_users.execute(
        [line(email="ada@example.test", password_hash=with_cost(cost))]
    )

    assert (report.imported, report.problems) == (1, [])
