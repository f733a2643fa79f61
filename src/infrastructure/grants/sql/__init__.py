"""Refresh grants and keyed records in the service's SQL database (SQLite or Postgres)."""

from infrastructure.grants.sql.grant_store import SqlGrantStore
from infrastructure.grants.sql.one_time import SqlOneTimeStore
from infrastructure.grants.sql.rate_limiter import SqlRateLimiter

__all__ = ["SqlGrantStore", "SqlOneTimeStore", "SqlRateLimiter"]
