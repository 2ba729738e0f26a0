"""API shapes of watches, takedown notices and the media citing a grant."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from registry.pagination import PageQuery

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
ManifestId = Annotated[str, Field(min_length=1, max_length=100)]


class WatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    manifest_id: ManifestId | None = Field(
        default=None, description="The C2PA manifest label (urn:c2pa:...) a verification reported"
    )
    sha256: Sha256 | None = Field(
        default=None, description="SHA-256 of the signed file or of its source"
    )


class WatchPublic(BaseModel):
    id: str
    manifest_id: str | None
    sha256: str | None
    created_at: datetime


class WatchList(BaseModel):
    items: list[WatchPublic]
    next_cursor: str | None


class TakedownPublic(BaseModel):
    id: str
    role: Literal["signer", "watcher"]
    grant_id: str
    manifest_id: str
    sha256: str | None = Field(description="Null for media signed without uploading")
    source_sha256: str
    state: Literal["requested", "acknowledged"]
    created_at: datetime
    acknowledged_at: datetime | None


class TakedownList(BaseModel):
    items: list[TakedownPublic]
    next_cursor: str | None


class TakedownListQuery(PageQuery):
    state: Literal["requested", "acknowledged"] | None = None


class CitingMedia(BaseModel):
    id: str
    manifest_id: str
    sha256: str | None = Field(description="Null for media signed without uploading")
    source_sha256: str
    mime_type: str
    created_at: datetime
    takedown_requested_at: datetime | None


class CitingMediaList(BaseModel):
    items: list[CitingMedia]
    next_cursor: str | None
