"""What a person may have done to a work (a creation record's human contributions): the API's
schema and the client's ``--human`` parser read it here (no import beyond the standard library,
so the client stays light)."""

from __future__ import annotations

from typing import Literal, get_args

HumanAction = Literal[
    "selection",
    "arrangement",
    "editing",
    "performance_direction",
    "writing",
    "composition",
    "other",
]
HUMAN_ACTIONS: tuple[str, ...] = get_args(HumanAction)
