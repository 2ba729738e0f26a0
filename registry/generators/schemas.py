"""API shapes of the generator inventory."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from registry.generators.vocabulary import (
    MEDIA_KINDS,
    GeneratorState,
    MediaKind,
    RiskClass,
    TrainingData,
)
from registry.pagination import PageQuery

Name = Annotated[str, Field(min_length=1, max_length=100)]
Version = Annotated[str, Field(min_length=1, max_length=50)]
Provider = Annotated[str, Field(min_length=1, max_length=200, description="Who makes the model")]
DocUrl = Annotated[
    str,
    Field(
        max_length=2000,
        pattern=r"^https?://[^\s]+$",
        description="Model card or documentation (an http or https URL)",
    ),
]
License = Annotated[str, Field(min_length=1, max_length=200, description="e.g. an SPDX id")]
Notes = Annotated[str, Field(min_length=1, max_length=2000)]
Modalities = Annotated[list[MediaKind], Field(min_length=1, max_length=len(MEDIA_KINDS))]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class GeneratorCreate(_Request):
    name: Name
    version: Version
    provider: Provider
    documentation_url: DocUrl | None = None
    license: License | None = None
    training_data: TrainingData = Field(
        description="What the model was trained on, as far as the organization knows"
    )
    training_data_notes: Notes | None = None
    risk_class: RiskClass = Field(description="The organization's own risk assessment")
    modalities: Modalities = Field(description="The kinds of media it produces")


class GeneratorUpdate(_Request):
    """Fields to change; a change to an approved generator returns it to ``pending``. The
    optional facts (documentation_url, license, training_data_notes) are cleared with null."""

    name: Name | SkipJsonSchema[None] = None
    version: Version | SkipJsonSchema[None] = None
    provider: Provider | SkipJsonSchema[None] = None
    documentation_url: DocUrl | None = None
    license: License | None = None
    training_data: TrainingData | SkipJsonSchema[None] = None
    training_data_notes: Notes | None = None
    risk_class: RiskClass | SkipJsonSchema[None] = None
    modalities: Modalities | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _required_facts_stay(self) -> GeneratorUpdate:
        cleared = [
            name
            for name in ("name", "version", "provider", "training_data", "risk_class", "modalities")
            if name in self.model_fields_set and getattr(self, name) is None
        ]
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be null")
        return self


class GeneratorApprove(_Request):
    approver: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None,
        description="Who approved it (a role or a name; kept in the inventory, never published). "
        "Defaults to the API client.",
    )


class GeneratorRetire(_Request):
    reason: Annotated[str, Field(min_length=1, max_length=500)] | None = None


class GeneratorPublic(BaseModel):
    id: str
    name: str
    version: str
    provider: str
    documentation_url: str | None
    license: str | None
    training_data: TrainingData
    training_data_notes: str | None
    risk_class: RiskClass
    modalities: list[MediaKind]
    state: GeneratorState
    approved_by: str | None
    approved_at: datetime | None
    retired_at: datetime | None
    retired_reason: str | None
    created_at: datetime
    updated_at: datetime


class GeneratorList(BaseModel):
    items: list[GeneratorPublic]
    next_cursor: str | None


class GeneratorListQuery(PageQuery):
    state: GeneratorState | None = None


class GeneratorFacts(BaseModel):
    """What a manifest and the public verification page say of a generator: its inventory
    facts, without the organization's risk class or who approved it."""

    name: Annotated[str, Field(max_length=100)]
    version: Annotated[str, Field(max_length=50)]
    provider: Annotated[str, Field(max_length=200)]
    documentation_url: Annotated[str, Field(max_length=2000)] | None = None
    license: Annotated[str, Field(max_length=200)] | None = None
    training_data: Annotated[str, Field(max_length=32)]
    modalities: list[Annotated[str, Field(max_length=16)]] = Field(max_length=8)
