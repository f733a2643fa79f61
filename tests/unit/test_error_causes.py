"""A log line names what is behind a 503: the driver's error by type and words, the type
alone when it has no words (a bare TimeoutError, whose str() is empty)."""

from __future__ import annotations

from domain.errors import StorageUnavailable, cause_of


def unavailable(cause: BaseException) -> StorageUnavailable:
    try:
        raise StorageUnavailable() from cause
    except StorageUnavailable as e:
        return e


def test_a_cause_is_named_by_its_type_and_its_words() -> None:
    refused = ConnectionRefusedError(111, "Connect call failed")
    assert (
        cause_of(unavailable(refused)) == "ConnectionRefusedError: [Errno 111] Connect call failed"
    )


def test_a_timeout_without_words_is_named_by_its_type() -> None:
    assert cause_of(unavailable(TimeoutError())) == "TimeoutError"


def test_an_error_without_a_cause_names_itself() -> None:
    assert cause_of(ValueError("bad")) == "ValueError: bad"
