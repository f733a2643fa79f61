"""``GET /metrics`` (Prometheus text format 0.0.4) and the HTTP series from Litestar's
Prometheus middleware, named ``authgate_requests_total`` and so on, by route template."""

from __future__ import annotations

from litestar import Response, get
from litestar.middleware.base import DefineMiddleware
from litestar.plugins.prometheus import PrometheusConfig

from infrastructure.metrics import PREFIX, exposition


@get("/metrics", include_in_schema=False, sync_to_thread=True)
def metrics() -> Response[bytes]:
    body, content_type = exposition()
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})


def http_metrics() -> DefineMiddleware:
    config = PrometheusConfig(
        app_name="authgate", prefix=PREFIX, group_path=True, exclude=["^/metrics$"]
    )
    return config.middleware
