"""The service's own Prometheus series (the HTTP ones come from Litestar's plugin).

Collectors are process-wide, as prometheus_client wants. With several server workers,
``PROMETHEUS_MULTIPROC_DIR`` (set before this module is imported: ``authgate serve`` does it)
makes each worker write its values to files there, and ``exposition`` sums them.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

PREFIX = "authgate"

LOGINS = Counter(
    f"{PREFIX}_logins", "Sign-ins by outcome (password and identity providers)", ["outcome"]
)
REFRESHES = Counter(f"{PREFIX}_refreshes", "Refresh-token rotations by outcome", ["outcome"])
RATE_LIMITED = Counter(
    f"{PREFIX}_rate_limited", "Requests refused by a rate limit, by limit", ["limit"]
)
CAPTCHA = Counter(f"{PREFIX}_captcha_checks", "Captcha checks by outcome", ["outcome"])
BACKEND_ERRORS = Counter(
    f"{PREFIX}_backend_errors",
    "Requests refused with 503 because a backend did not answer, by backend",
    ["backend"],
)
# One value for the whole service, whichever worker measured it last.
OUTBOX_DEPTH = Gauge(
    f"{PREFIX}_outbox_depth", "Mails waiting in the outbox", multiprocess_mode="mostrecent"
)
OUTBOX_AGE = Gauge(
    f"{PREFIX}_outbox_oldest_age_seconds",
    "Age of the oldest mail waiting in the outbox (0 when empty)",
    multiprocess_mode="mostrecent",
)
WEBHOOK_DELIVERIES = Counter(
    f"{PREFIX}_webhook_deliveries",
    "Webhook delivery attempts by outcome",
    ["outcome"],
)
WEBHOOK_QUEUE_DEPTH = Gauge(
    f"{PREFIX}_webhook_queue_depth",
    "Webhook deliveries waiting in the outbox",
    multiprocess_mode="mostrecent",
)
WEBHOOK_QUEUE_AGE = Gauge(
    f"{PREFIX}_webhook_queue_oldest_age_seconds",
    "Age of the oldest webhook delivery waiting in the outbox (0 when empty)",
    multiprocess_mode="mostrecent",
)

PWNED_RANGE_SECONDS = Histogram(
    f"{PREFIX}_pwned_range_seconds",
    "Time the Pwned Passwords range API took to answer (or to fail)",
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 2.5),
)
PWNED_RANGE_FAILURES = Counter(
    f"{PREFIX}_pwned_range_failures",
    "Pwned Passwords range lookups that failed open, by reason",
    ["reason"],
)


def record_outbox(depth: int, oldest_age_seconds: float | None) -> None:
    """The extension point for the mail outbox: call it with what the outbox reports."""
    OUTBOX_DEPTH.set(depth)
    OUTBOX_AGE.set(oldest_age_seconds or 0.0)


def record_webhook_queue(depth: int, oldest_age_seconds: float | None) -> None:
    WEBHOOK_QUEUE_DEPTH.set(depth)
    WEBHOOK_QUEUE_AGE.set(oldest_age_seconds or 0.0)


def record_backend_error(backend: str) -> None:
    BACKEND_ERRORS.labels(backend=backend).inc()


def exposition() -> tuple[bytes, str]:
    """The text format of every series, summed over the workers in multiprocess mode."""
    registry: CollectorRegistry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_PLAIN_0_0_4
