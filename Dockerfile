# syntax=docker/dockerfile:1
# authgate production image: `docker compose up` (compose.yaml) or
# `docker build -t authgate . && docker run -p 8000:8000 -v authgate-data:/data authgate`.
ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# Build: uv (pinned) syncs the locked runtime dependencies into /app/.venv.
FROM ${PYTHON_IMAGE} AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
# Dependencies before the source: a code change rebuilds only the last layers.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY README.md ./
COPY src ./src
# The browser client: the npm package's file, which the wheel serves as /auth/client.js.
COPY clients/js/src/authgate-client.js ./clients/js/src/
RUN uv sync --frozen --no-dev --no-editable

# Run: the virtual environment only (no uv, no source tree), as an unprivileged user.
FROM ${PYTHON_IMAGE}
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin authgate \
    && mkdir /data && chown authgate:authgate /data && chmod 0700 /data
COPY --from=build /app/.venv /app/.venv
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    AUTH_HOST=0.0.0.0 \
    AUTH_DATABASE_URL=sqlite:////data/authgate.db \
    AUTH_KEYS_FILE=/data/jwks.json
WORKDIR /app
USER authgate
EXPOSE 8000
VOLUME ["/data"]
# Ready means every backend answers; urlopen raises on a 503, so the check fails then.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/health/ready' % os.environ.get('AUTH_PORT', '8000'), timeout=4)"
# Applies pending migrations, then serves with AUTH_WORKERS granian workers.
CMD ["authgate", "serve"]
