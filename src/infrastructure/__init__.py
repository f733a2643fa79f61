"""Adapters that implement the domain ports."""
