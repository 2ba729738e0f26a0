"""What a creation record adds to the manifest: the people's actions as C2PA actions, and the
generator's public inventory facts with the human contributions (``org.consentregistry.creation``).

Each human contribution is a ``c2pa.edited`` action (C2PA actions v2) whose
``digitalSourceType`` is IPTC ``humanEdits`` and whose ``description`` says who (a role, never
a name) did what. Prompts and inputs are not in the manifest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from registry.c2pa.labels import CREATION_LABEL, EDITED_ACTION, HUMAN_EDITS, IPTC_SOURCE_TYPE


def describe(contribution: dict[str, Any]) -> str:
    action = str(contribution["action"]).replace("_", " ")
    return f"{action} by a person ({contribution['role']}): {contribution['description']}"


def human_actions(human: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "action": EDITED_ACTION,
            "digitalSourceType": IPTC_SOURCE_TYPE + HUMAN_EDITS,
            "description": describe(contribution),
        }
        for contribution in human
    ]


def creation_assertion(
    generator: dict[str, Any], human: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "label": CREATION_LABEL,
        "data": {
            "generator": generator,
            "human": [{k: c[k] for k in ("role", "action", "description")} for c in human],
        },
    }
