"""API shapes of media signing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from registry.consent.vocabulary import MODALITIES
from registry.pagination import PageQuery
from registry.records.schemas import CreationInput

DIGITAL_SOURCE_TYPES = ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia")


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class GrantUse(_Request):
    """One cited grant and the use made of it in this file."""

    grant_id: Annotated[str, Field(min_length=1, max_length=36)]
    modalities: list[
        Annotated[str, Field(max_length=32, json_schema_extra={"enum": list(MODALITIES)})]
    ] = Field(min_length=1, max_length=len(MODALITIES))
    purpose: Annotated[
        str,
        Field(
            min_length=1,
            max_length=200,
            description="A purpose category or project_ref of the grant",
        ),
    ]
    territory: Annotated[str, Field(min_length=1, max_length=8, description="ISO 3166-1 alpha-2")]


class Generator(_Request):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    version: Annotated[str, Field(min_length=1, max_length=50)]


class MediaMetadata(_Request):
    """The ``metadata`` part of ``POST /v1/media``."""

    grants: list[GrantUse] = Field(min_length=1, max_length=20)
    # The generator: an approved entry of the organization's inventory, by id or by name and
    # version (exactly one of the two).
    generator_id: Annotated[str, Field(min_length=1, max_length=36)] | None = None
    generator: Generator | None = None
    digital_source_type: Literal[DIGITAL_SOURCE_TYPES] = "trainedAlgorithmicMedia"  # type: ignore[valid-type]
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    creation: CreationInput | None = Field(
        default=None, description="The creation record: prompts, inputs, human contributions"
    )

    @model_validator(mode="after")
    def _one_generator(self) -> MediaMetadata:
        if (self.generator_id is None) == (self.generator is None):
            raise ValueError("give exactly one of generator_id and generator")
        return self


class SignObjectRequest(MediaMetadata):
    key: Annotated[
        str,
        Field(
            min_length=1,
            max_length=1024,
            description="Object key in the bucket, under the organization's prefix",
        ),
    ]


class MediaAssetPublic(BaseModel):
    id: str
    sha256: str | None = Field(
        description="SHA-256 of the signed file (null: signed without uploading, unknown)"
    )
    source_sha256: str = Field(
        description="SHA-256 of the bytes as received (signed without uploading: as declared)"
    )
    manifest_id: str
    mime_type: str
    size: int
    grant_ids: list[str]
    generator: Generator
    digital_source_type: str
    title: str | None
    created_at: datetime
    stored: bool = Field(
        description="False: signed where it lives (a signing session); the registry has no bytes"
    )
    download_url: str | None = Field(description="Null when the registry holds no bytes")


class MediaListQuery(PageQuery):
    grant_id: Annotated[str, Field(max_length=36)] | None = Field(
        default=None, description="Only media citing this grant"
    )
    created_after: AwareDatetime | None = Field(default=None, description="Signed at or after")
    created_before: AwareDatetime | None = Field(default=None, description="Signed before")


class MediaList(BaseModel):
    items: list[MediaAssetPublic]
    next_cursor: str | None


MEDIA_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file", "metadata"],
                "properties": {
                    "file": {"type": "string", "contentMediaType": "application/octet-stream"},
                    "metadata": {"$ref": "#/components/schemas/MediaMetadata"},
                },
            },
            "encoding": {"metadata": {"contentType": "application/json"}},
        }
    },
}
