FROM python:3.12-slim
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY src ./src
COPY Justfile ./
RUN uv sync --frozen --no-dev && uv pip install rust-just
ENV PATH="/app/.venv/bin:$PATH"
EXPOSE 8000
CMD ["just", "serve"]
