"""The registry's status lists and their entries (one per consent token that names a list).

``version`` counts the changes of a list: every allocation or status change bumps it in the
same transaction, which also stamps the entry's ``changed_version``. A published list is
rebuilt (or brought up to date from the entries changed since) when the version moves, so it
shows a change as soon as the change commits.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from registry.db import UTCDateTime, utcnow


class StatusList(SQLModel, table=True):
    __tablename__ = "status_lists"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    size: int  # entries (indices 0 .. size - 1), a multiple of 8
    allocated: int = 0
    version: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StatusListEntry(SQLModel, table=True):
    """The index a grant's token names, and the status that index holds now."""

    __tablename__ = "status_list_entries"
    __table_args__ = (
        sa.UniqueConstraint("grant_id", name="uq_status_list_entries_grant_id"),
        # Bringing a published list up to date: the entries changed since its version.
        sa.Index("ix_status_list_entries_changes", "list_id", "changed_version"),
        # Expiry: the entries still valid whose grant's period has ended.
        sa.Index("ix_status_list_entries_due", "status", "expires_at"),
    )

    list_id: int = Field(foreign_key="status_lists.id", primary_key=True)
    idx: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    grant_id: str = Field(foreign_key="consent_grants.id", max_length=36)
    status: int = Field(sa_type=sa.SmallInteger)
    # The grant's valid_until (immutable once issued), so that expiry reads only this table.
    expires_at: datetime = Field(sa_type=UTCDateTime)
    changed_version: int
