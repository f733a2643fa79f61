# authgate tasks. Run as `uv run just <recipe>`.

# .env is read here too, so AUTH_HOST/AUTH_PORT/AUTH_WORKERS there reach granian.
set dotenv-load := true

workers := env("AUTH_WORKERS", "1")
host := env("AUTH_HOST", "127.0.0.1")
port := env("AUTH_PORT", "8000")

# Apply migrations, then serve the API under granian.
# /metrics adds up the workers through prometheus_client's multiprocess files: a fresh
# directory per run, removed at the end (or PROMETHEUS_MULTIPROC_DIR if you set one: empty it
# before each start).
serve: migrate
    #!/usr/bin/env bash
    set -euo pipefail
    if [ -z "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
        export PROMETHEUS_MULTIPROC_DIR="$(mktemp -d -t authgate-metrics.XXXXXX)"
        trap 'rm -rf "$PROMETHEUS_MULTIPROC_DIR"' EXIT
    fi
    granian --interface asgi --factory --host {{host}} --port {{port}} --workers {{workers}} interfaces.http.asgi:app_from_environment

# Apply pending database migrations.
migrate:
    authgate migrate

# The whole test suite.
test *args:
    pytest {{args}}

# Lint, type-check and check the layer contracts.
check:
    ruff check src tests
    ruff format --check src tests
    mypy
    lint-imports

# Format the code.
fmt:
    ruff format src tests
    ruff check --fix src tests

# Benchmarks (performance targets live here, never in unit tests).
bench *args:
    python -m benchmarks {{args}}
