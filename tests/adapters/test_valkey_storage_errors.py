"""What the Valkey adapters turn into a 503: every error of a server that is gone, including
the one valkey-py's asyncio connection leaks when a concurrent disconnect clears its writer
while a command is written (seen under a Valkey restart: an AttributeError, a 500 before);
never an error of our own code."""

from __future__ import annotations

import pytest
from valkey.asyncio.connection import Connection

from domain.errors import StorageUnavailable
from infrastructure.grants.valkey.client import storage_errors


async def test_a_write_on_a_connection_torn_down_meanwhile_is_storage_unavailable() -> None:
    connection = Connection()
    connection._writer = None  # what a concurrent disconnect leaves behind

    with pytest.raises(StorageUnavailable), storage_errors():
        await connection._send_packed_command([b"*1\r\n$4\r\nPING\r\n"])


def test_an_attribute_error_of_our_own_code_stays_one() -> None:
    nothing = None

    with pytest.raises(AttributeError), storage_errors():
        nothing.writelines([])  # type: ignore[attr-defined]
