"""Keyset pagination for every list: opaque cursors over a unique, ordered column.

A page is ``limit`` rows after the cursor's key, in key order; ``next_cursor`` is set only
when more rows follow. A cursor is the last key of a page, base64url-encoded so that clients
treat it as opaque; one the API did not issue is a 422 problem.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from registry.errors import ValidationFailed
from registry.ids import is_uuid

T = TypeVar("T")
K = TypeVar("K", str, int)
# Keys of integer columns (audit sequence numbers) stay inside a signed 32-bit integer.
MAX_INT_KEY = 2**31 - 1

Cursor = Annotated[
    str,
    Field(
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Opaque: the next_cursor of the previous page",
    ),
]


class PageQuery(BaseModel):
    """``?cursor=&limit=`` of a list operation."""

    model_config = ConfigDict(extra="forbid")

    cursor: Cursor | None = None
    limit: int = Field(default=50, ge=1, le=100)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows and the cursor of the next, if there is one."""

    items: list[T]
    next_cursor: str | None


def uuid_key(text: str) -> str | None:
    """A cursor key for id columns (time-ordered UUIDs)."""
    return text if is_uuid(text) else None


def int_key(text: str) -> int | None:
    """A cursor key for positive integer columns."""
    if not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if 0 < value <= MAX_INT_KEY else None


def encode_cursor(key: str | int) -> str:
    return base64.urlsafe_b64encode(str(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, parse: Callable[[str], K | None]) -> K | None:
    """The key a cursor points after; 422 for a cursor this API did not issue."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed("query.cursor is not a cursor this API returned") from exc
    key = parse(text)
    if key is None:
        raise ValidationFailed("query.cursor is not a cursor this API returned")
    return key


def keyset_page(
    session: Session,
    query: sa.Select[Any],
    *,
    key: Any,
    cursor: str | None,
    limit: int,
    parse: Callable[[str], K | None],
) -> Page[Any]:
    """The page of ``query``'s rows (ORM entities) after ``cursor``, ordered by ``key``."""
    after = decode_cursor(cursor, parse)
    if after is not None:
        query = query.where(key > after)
    rows = list(session.scalars(query.order_by(key).limit(limit + 1)))
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    return Page(rows, encode_cursor(getattr(rows[-1], key.key)))
