"""Performance measurements: `uv run just bench`. Targets live here, not in unit tests."""
