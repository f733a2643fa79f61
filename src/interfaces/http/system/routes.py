from __future__ import annotations

import asyncio
from collections.abc import Mapping

from litestar import Controller, Response, get
from litestar.openapi.datastructures import ResponseSpec

from domain.ports import AccessTokens
from interfaces.bootstrap import Check
from interfaces.http.observability.probe import answers
from interfaces.http.providers import NO_STORE, Inject
from interfaces.http.system.responses import HealthBody

CHECK_TIMEOUT = 3.0


class SystemController(Controller):
    tags = ("system",)

    @get("/.well-known/jwks.json", summary="Public keys that verify our access tokens")
    async def jwks(self, access_tokens: Inject[AccessTokens]) -> Response[dict[str, object]]:
        return Response(access_tokens.jwks(), headers={"Cache-Control": "public, max-age=300"})

    @get("/health/live", summary="The process is up")
    async def live(self) -> HealthBody:
        return HealthBody(status="ok")

    @get(
        "/health/ready",
        summary="Every backend answers",
        responses={503: ResponseSpec(HealthBody, description="A backend does not answer")},
    )
    async def ready(self, health_checks: Inject[Mapping[str, Check]]) -> Response[HealthBody]:
        names = list(health_checks)
        results = await asyncio.gather(*(_check(health_checks[n]) for n in names))
        checks = dict(zip(names, results, strict=True))
        ok = all(result == "ok" for result in results)
        return Response(
            HealthBody(status="ok" if ok else "unavailable", checks=checks),
            status_code=200 if ok else 503,
            headers=NO_STORE,
        )


async def _check(check: Check) -> str:
    return "ok" if await answers(check, CHECK_TIMEOUT) else "unavailable"
