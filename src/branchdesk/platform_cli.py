"""Platform commands: demo, serve, db upgrade, seed, worker, users, audit."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def version() -> None:
        """Print the installed version."""
        from branchdesk import __version__

        typer.echo(__version__)
