"""The `registry` command: ``admin`` holds the operators' commands and the group itself;
``pipeline`` holds `registry sign` and `registry verify`, loaded only when they run."""

from registry.cli.admin import main

__all__ = ["main"]
