"""The Lua scripts, one ``.lua`` file each next to this module, read once at import.

Every state change is one script (``redis.call``: Valkey and Redis). The adapters hand
them to ``register_script``, which calls them by SHA (EVALSHA) and loads a script
itself when the server answers NOSCRIPT.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Final


def _lua(name: str) -> str:
    return files(__package__ or __name__).joinpath(f"{name}.lua").read_text(encoding="utf-8")


ISSUE: Final = _lua("issue")
ROTATE: Final = (
    _lua("hit") + _lua("deadline") + f"return before_deadline(function()\n{_lua('rotate')}\nend)\n"
)
REVOKE: Final = _lua("revoke")
HIT: Final = _lua("hit") + "return hit(KEYS[1], unpack(ARGV))"
HIT_ALL: Final = _lua("hit") + _lua("hit_all")
SET_ROLE: Final = _lua("set_role")
REASSURE: Final = _lua("reassure")
