"""docs/api.md stays true: its endpoint table and the live OpenAPI document name the same
operations, and the docs routes it lists beside them are served."""

from __future__ import annotations

import re
from pathlib import Path

from infrastructure.config import Settings
from interfaces.http.app import create_app

API_MD = Path(__file__).resolve().parents[2] / "docs" / "api.md"
ROW = re.compile(r"^\| (GET|POST|PUT|PATCH|DELETE) \| (\S+) \|", re.M)
# Served beside the OpenAPI document rather than described in it.
DOCS_ROUTES = {
    ("GET", "/schema"),
    ("GET", "/schema/openapi.json"),
    ("GET", "/metrics"),
    ("GET", "/auth/client.js"),
}
# Beside it too, and only with AUTH_DEMO=true (tests/http/test_browser_client.py).
DEMO_ROUTES = {("GET", "/demo")}


def documented() -> set[tuple[str, str]]:
    endpoints = API_MD.read_text().split("## Endpoints", 1)[1].split("\n## ", 1)[0]
    return {(method, path) for method, path in ROW.findall(endpoints)}


def served() -> set[tuple[str, str]]:
    document = create_app(Settings()).openapi_schema.to_schema()
    return {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }


def test_every_operation_in_the_openapi_document_is_a_row_of_docs_api_md():
    assert served() - documented() == set()


def test_every_row_of_docs_api_md_is_an_operation_the_service_serves():
    assert documented() - DOCS_ROUTES - DEMO_ROUTES - served() == set()
    assert documented() >= DEMO_ROUTES
    assert len(documented()) >= 15


async def test_the_docs_routes_in_the_table_answer(client):
    for method, path in DOCS_ROUTES & documented():
        assert (await client.request(method, path)).status_code == 200, path
