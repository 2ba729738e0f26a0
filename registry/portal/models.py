"""People's accounts: a person signs in with passkeys and holds profiles (subjects) of one or
more studios; studios invite them with single-use links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from registry.db import JSONColumn, UTCDateTime, utcnow
from registry.ids import new_id


class Person(SQLModel, table=True):
    """An account: no name, no email, no password; only passkeys and linked profiles."""

    __tablename__ = "persons"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    # The WebAuthn user handle (random, 32 bytes as hex): what authenticators store.
    user_handle: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    # Sessions carry the epoch they began in; signing out moves it on, so a copied cookie
    # stops working everywhere (cookie sessions cannot be deleted on the server).
    session_epoch: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Passkey(SQLModel, table=True):
    __tablename__ = "person_passkeys"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    person_id: str = Field(foreign_key="persons.id", index=True, max_length=36)
    credential_id: str = Field(max_length=1400, sa_column_kwargs={"unique": True})  # base64url
    public_key: str = Field(sa_type=sa.Text)  # base64url COSE key
    sign_count: int = 0
    transports: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PersonProfile(SQLModel, table=True):
    """A subject (one studio's record of the person) linked to an account; a subject belongs
    to at most one account."""

    __tablename__ = "person_profiles"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    person_id: str = Field(foreign_key="persons.id", index=True, max_length=36)
    subject_id: str = Field(
        foreign_key="subjects.id", max_length=36, sa_column_kwargs={"unique": True}
    )
    linked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SubjectInvitation(SQLModel, table=True):
    """A single-use, expiring link to the portal; only the SHA-256 of its secret is kept."""

    __tablename__ = "subject_invitations"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    org_id: str = Field(foreign_key="organizations.id", max_length=36)
    subject_id: str = Field(foreign_key="subjects.id", index=True, max_length=36)
    token_sha256: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    redeemed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    redeemed_by: str | None = Field(default=None, max_length=36)
    delivery: dict[str, Any] | None = Field(default=None, sa_type=JSONColumn)
