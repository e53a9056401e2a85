"""CLI verbs for the spatial part (filled in by that part)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this part's commands to the root app."""
