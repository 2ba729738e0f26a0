"""The `registry` command: ``admin`` holds the operators' commands and the group itself;
``pipeline`` holds `registry sign`, `registry verify` and `registry screen`, loaded only when
they run."""

from registry.cli.admin import main

__all__ = ["main"]
