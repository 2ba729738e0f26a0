"""A generator in an organization's inventory: which model, which version, from whom, trained
on what, with what risk, and who approved it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from registry.db import JSONColumn, UTCDateTime, utcnow
from registry.ids import new_id


class GeneratorEntry(SQLModel, table=True):
    __tablename__ = "generators"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "name", "version", name="uq_generators_org_name_version"),
        sa.Index("ix_generators_org_id_id", "org_id", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    org_id: str = Field(foreign_key="organizations.id", max_length=36)
    name: str = Field(max_length=100)
    version: str = Field(max_length=50)
    provider: str = Field(max_length=200)
    documentation_url: str | None = Field(default=None, max_length=2000)
    license: str | None = Field(default=None, max_length=200)
    # licensed | public_domain | opt_out_respected | unknown
    training_data: str = Field(max_length=32)
    training_data_notes: str | None = Field(default=None, max_length=2000)
    # low | medium | high: the organization's own assessment (never published)
    risk_class: str = Field(max_length=16)
    # media kinds it produces: image, audio, video
    modalities: list[str] = Field(sa_type=JSONColumn)
    # pending -> approved; either -> retired (final)
    state: str = Field(default="pending", max_length=16)
    approved_by: str | None = Field(default=None, max_length=200)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    retired_reason: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
