from __future__ import annotations

import asyncio

from litestar import Controller, Response, get
from litestar.openapi.datastructures import ResponseSpec

from interfaces.http.backends import Check
from interfaces.http.bodies import HealthBody
from interfaces.http.dependencies import NO_STORE, Services
from interfaces.http.observability.probe import answers

CHECK_TIMEOUT = 3.0


class SystemController(Controller):
    tags = ("system",)

    @get("/.well-known/jwks.json", summary="Public keys that verify our access tokens")
    async def jwks(self, services: Services) -> Response[dict[str, object]]:
        return Response(services.jwks, headers={"Cache-Control": "public, max-age=300"})

    @get("/health/live", summary="The process is up")
    async def live(self) -> HealthBody:
        return HealthBody(status="ok")

    @get(
        "/health/ready",
        summary="Every backend answers",
        responses={503: ResponseSpec(HealthBody, description="A backend does not answer")},
    )
    async def ready(self, services: Services) -> Response[HealthBody]:
        names = list(services.checks)
        results = await asyncio.gather(*(_check(services.checks[n]) for n in names))
        checks = dict(zip(names, results, strict=True))
        ok = all(result == "ok" for result in results)
        return Response(
            HealthBody(status="ok" if ok else "unavailable", checks=checks),
            status_code=200 if ok else 503,
            headers=NO_STORE,
        )


async def _check(check: Check) -> str:
    return "ok" if await answers(check, CHECK_TIMEOUT) else "unavailable"
