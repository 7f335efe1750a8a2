"""Sub-commands of `shopdesk`, one module each; every module exposes `register(app)`."""

from __future__ import annotations

import importlib

import typer

# Each entry is a module under shopdesk.commands with a `register(app: typer.Typer)` function.
_MODULES = ("server", "export", "evaluate", "screen", "kb")


def register_all(app: typer.Typer) -> None:
    for name in _MODULES:
        try:
            module = importlib.import_module(f"shopdesk.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"shopdesk.commands.{name}":
                continue  # that command is not built yet
            raise
        module.register(app)
