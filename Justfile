# authgate tasks. Run as `uv run just <recipe>`.

# Apply migrations, then serve the API under granian (AUTH_HOST/AUTH_PORT/AUTH_WORKERS, from
# the environment or .env), with the demo app at /demo unless AUTH_DEMO says otherwise. The
# same as `authgate serve --demo`, which needs no dev dependency.
serve:
    authgate serve --demo

# Apply pending database migrations.
migrate:
    authgate migrate

# The whole test suite, in two processes (pytest-xdist; a test file stays in one, in order:
# the browser tests rely on it). The suite waits on servers more than it computes, so two
# processes take about two thirds of the time of one, even on two cores. Files are taken in
# the order collected, which puts those with a `slow` test first (tests/conftest.py): a
# two-minute file taken last would leave one process idle for two minutes.
test *args:
    pytest -n 2 --dist loadfile --no-loadscope-reorder {{args}}

# Lint, type-check and check the layer contracts (the Python client, clients/python, has
# its own mypy settings).
check:
    ruff check src tests benchmarks clients/python docs
    ruff format --check src tests benchmarks clients/python docs
    mypy
    cd clients/python && mypy
    lint-imports

# Format the code.
fmt:
    ruff format src tests benchmarks clients/python docs
    ruff check --fix src tests benchmarks clients/python docs

# The documentation site (MkDocs, Material) on http://127.0.0.1:8001, rebuilt on every change.
docs:
    mkdocs serve --dev-addr 127.0.0.1:8001

# Benchmarks (performance targets live here, never in unit tests).
bench *args:
    python -m benchmarks {{args}}
