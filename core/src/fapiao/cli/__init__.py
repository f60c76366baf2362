"""The ``fapiao`` CLI entry point."""

from fapiao.cli.app import app, main

__all__ = ["app", "main"]
