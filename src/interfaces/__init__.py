"""The outer ring: the composition root (``bootstrap``), and over it the HTTP app and the CLI."""
