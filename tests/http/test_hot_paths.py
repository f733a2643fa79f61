"""The hot paths resolve their dependencies one at a time: Litestar resolves two or more
independent ones in an anyio task group, which costs more than the rest of a ``GET
/auth/me`` (litestar-org/litestar#4563). Measured in-process, a request one after the other:
``GET /auth/me`` 180 µs with two, 98 µs with one; a refresh with five, then one: 1,010 ->
930 µs on SQLite, 785 -> 640 µs on PostgreSQL + Valkey."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import HttpMethod, Litestar
from litestar.routes import HTTPRoute

from infrastructure.config import Settings
from interfaces.http.app import create_app

HOT_PATHS = [
    (HttpMethod.GET, "/auth/me"),
    (HttpMethod.POST, "/auth/refresh"),
    (HttpMethod.POST, "/auth/login"),
]


def batches(app: Litestar, method: HttpMethod, path: str) -> list[set[Any]]:
    route = next(r for r in app.routes if r.path == path and isinstance(r, HTTPRoute))
    handler = route.route_handler_map[method][0]
    model = handler.create_kwargs_model(path_parameters={})
    return list(model.dependency_batches)


@pytest.mark.parametrize(("method", "path"), HOT_PATHS)
def test_a_hot_path_resolves_no_two_dependencies_at_once(
    settings: Settings, method: HttpMethod, path: str
) -> None:
    app = create_app(settings)

    assert all(len(batch) == 1 for batch in batches(app, method, path))
