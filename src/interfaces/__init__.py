"""The outer ring: the HTTP app (the one composition root) and the CLI."""
