"""The lines of an import file (``BulkImportUsers``): users from another system with their
existing password hashes.

Legacy bcrypt hashes are kept as they are and upgraded to argon2id at the user's next
successful login (``Login`` rehashes), so nobody has to reset a password.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from domain.entities import DEFAULT_ROLE, NewUser
from domain.values import NAME_MAX, Email, name_problems

_BCRYPT = re.compile(r"^\$2[aby]\$(?P<cost>\d{2})\$[./A-Za-z0-9]{53}$")
# Every failed login is padded to the time of the slowest hash we accept (OWASP
# Authentication Cheat Sheet, "Authentication Responses"), so that slowest one is bounded:
# bcrypt cost 12 (OWASP's own minimum is 10) at about 215 ms a check.
BCRYPT_MAX_COST = 12
_ARGON2 = re.compile(
    r"^\$argon2(id|i|d)\$v=\d+\$m=(?P<m>\d+),t=(?P<t>\d+),p=(?P<p>\d+)"
    r"\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$"
)
# The same bound for argon2: a check costs at most what a bcrypt-12 one does, twelve times
# the service's own (memory times passes, 19 MiB by 2), in at most 128 MiB and 8 lanes. Django's
# defaults (100 MiB, 2 passes, 8 lanes) fit; libsodium's "sensitive" (1 GiB, 4) does not:
# seconds a check, the floor no longer covering it, and each wrong password a CPU lever.
ARGON2_MAX_MEMORY_KIB = 131_072
ARGON2_MAX_WORK = 12 * 19_456 * 2  # KiB times passes
ARGON2_MAX_LANES = 8
ROLES = frozenset({"user", "admin"})


@dataclass(slots=True)
class ImportReport:
    imported: int = 0
    problems: list[str] = field(default_factory=list)


def parse_line(line: str, now: datetime) -> NewUser:
    """One line of the import file as a new user; ``ValueError`` says what is wrong."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        raise ValueError("not valid JSON") from e
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    email, password_hash = record.get("email"), record.get("password_hash")
    name, role = record.get("name"), record.get("role", DEFAULT_ROLE)
    if not isinstance(email, str):
        raise ValueError("email is missing")
    if not isinstance(password_hash, str) or not (
        _BCRYPT.match(password_hash) or _ARGON2.match(password_hash)
    ):
        raise ValueError("password_hash is not a bcrypt ($2a$/$2b$/$2y$) or argon2 hash")
    _check_cost(password_hash)
    if name is not None and (not isinstance(name, str) or len(name) > NAME_MAX):
        raise ValueError(f"name must be a string of at most {NAME_MAX} characters")
    # The rule a sign-up's name meets: no control characters (an escape sequence would reach
    # the operator's terminal through `authgate users show`; PostgreSQL refuses NUL).
    if problems := name_problems(name):
        raise ValueError(f"name {problems[0].message}")
    if role not in ROLES:
        raise ValueError(f"role must be one of {sorted(ROLES)}")
    try:
        normalised = Email.parse(email).value
    except ValueError as e:
        raise ValueError(f"email {e}") from e
    return NewUser(
        email=normalised,
        password_hash=password_hash,
        name=name,
        role=role,
        created_at=now,
    )


def _check_cost(password_hash: str) -> None:
    bcrypt = _BCRYPT.match(password_hash)
    if bcrypt and not 4 <= int(bcrypt["cost"]) <= BCRYPT_MAX_COST:
        raise ValueError(f"bcrypt cost must be between 4 and {BCRYPT_MAX_COST}")
    if _ARGON2.match(password_hash) and not argon2_affordable(password_hash):
        raise ValueError(
            f"argon2 cost must be at most m={ARGON2_MAX_MEMORY_KIB} (KiB), m * t ="
            f" {ARGON2_MAX_WORK} and p={ARGON2_MAX_LANES}"
        )


def argon2_affordable(password_hash: str) -> bool:
    """Whether an argon2 hash's parameters are within the bounds above (False for anything
    that is not an argon2 hash)."""
    found = _ARGON2.match(password_hash)
    if found is None:
        return False
    memory, passes, lanes = int(found["m"]), int(found["t"]), int(found["p"])
    return (
        0 < memory <= ARGON2_MAX_MEMORY_KIB
        and passes > 0
        and memory * passes <= ARGON2_MAX_WORK
        and 0 < lanes <= ARGON2_MAX_LANES
    )
