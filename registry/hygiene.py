"""What text the registry accepts: no control characters and no lone surrogates.

PostgreSQL refuses NUL in text (a 500 if it reached the database) and a lone surrogate is
not encodable as UTF-8; other control characters have no business in names, reasons or
identifiers and make logs and pages lie. Tab, line feed and carriage return stay allowed in
free text. Every request body, form, query and multipart metadata part is checked here
before it is validated.
"""

from __future__ import annotations

import re
from typing import Any

from registry.errors import ValidationFailed

# C0 controls but \t \n \r, DEL, C1 controls, and UTF-16 surrogates (lone ones survive JSON).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _first_bad_text(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if _FORBIDDEN.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _first_bad_text(key, path) or _first_bad_text(item, f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_bad_text(item, f"{path}.{index}")
            if found:
                return found
    return None


def refuse_control_characters(document: Any, where: str) -> None:
    """A 422 problem naming the first string under ``document`` with a forbidden character."""
    found = _first_bad_text(document, where)
    if found:
        raise ValidationFailed(
            f"{found}: text must not contain control characters or lone surrogates",
            errors=[{"loc": found, "message": "control character", "type": "string_control"}],
        )
