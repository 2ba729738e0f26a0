"""Tenants and their API clients."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from registry.db import UTCDateTime, utcnow
from registry.ids import new_id


class Organization(SQLModel, table=True):
    __tablename__ = "organizations"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiClient(SQLModel, table=True):
    """A machine credential of one organization. Only the secret's hash is stored."""

    __tablename__ = "api_clients"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    client_id: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    secret_hash: str = Field(max_length=64)
    org_id: str = Field(foreign_key="organizations.id", index=True, max_length=36)
    name: str = Field(default="", max_length=200)
    scopes: str = Field(max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())
