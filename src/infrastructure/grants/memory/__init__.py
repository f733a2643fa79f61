"""Refresh grants and keyed records in process memory: for tests and single-process use."""

from infrastructure.grants.memory.grant_store import MemoryGrantStore
from infrastructure.grants.memory.one_time import MemoryOneTimeStore
from infrastructure.grants.memory.rate_limiter import MemoryRateLimiter

__all__ = ["MemoryGrantStore", "MemoryOneTimeStore", "MemoryRateLimiter"]
