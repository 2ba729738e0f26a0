"""API shapes of creation records: what signing accepts, and the report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from registry.generators.schemas import GeneratorPublic
from registry.records.vocabulary import HumanAction

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class HumanContribution(_Request):
    """What a person did. Name the role, not the person: this goes into the manifest."""

    role: Annotated[
        str, Field(min_length=1, max_length=100, description="e.g. editor, director (no names)")
    ]
    action: HumanAction
    description: Annotated[str, Field(min_length=1, max_length=500)]


class InputAsset(_Request):
    sha256: Sha256 = Field(description="SHA-256 of an input file (a reference, a stem, a take)")
    label: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class CreationInput(_Request):
    """The ``creation`` part of signing's metadata."""

    prompts: list[Annotated[str, Field(min_length=1, max_length=20_000)]] = Field(
        default_factory=list,
        max_length=20,
        description="Prompt text: recorded as SHA-256 digests; the text itself only with "
        "keep_prompt_text (encrypted at rest). Never in the manifest.",
    )
    prompt_sha256: list[Sha256] = Field(
        default_factory=list,
        max_length=20,
        description="Digests of prompts hashed by the client (SHA-256 of the UTF-8 text)",
    )
    keep_prompt_text: bool = False
    inputs: list[InputAsset] = Field(default_factory=list, max_length=50)
    human: list[HumanContribution] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _text_to_keep(self) -> CreationInput:
        if self.keep_prompt_text and not self.prompts:
            raise ValueError("keep_prompt_text needs prompts (their text)")
        return self


class RecordMedia(BaseModel):
    id: str
    title: str | None
    mime_type: str
    sha256: str | None = Field(description="Null for media signed without uploading")
    source_sha256: str
    manifest_id: str
    digital_source_type: str
    created_at: datetime
    created_by: str


class RecordGrant(BaseModel):
    grant_id: str
    version: int | None
    subject_id: str | None
    modalities: list[str]
    purpose: str
    territory: str
    token_sha256: str
    status_at_signing: str
    status_now: str


class RecordPrompts(BaseModel):
    count: int
    sha256: list[str]
    text_kept: bool = Field(description="The text is kept, encrypted, and not shown here")


class CreationReport(BaseModel):
    """What was made, with which tool, under which grants, and what the people did."""

    media: RecordMedia
    generator: dict[str, object] = Field(
        description="The inventory entry as it stood when the work was signed"
    )
    generator_now: GeneratorPublic | None = Field(
        description="The inventory entry as it is now (none for media signed before the inventory)"
    )
    grants: list[RecordGrant]
    prompts: RecordPrompts
    inputs: list[dict[str, object]]
    human: list[dict[str, object]]
    signed_at: datetime


class RecordQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["json", "html"] | None = Field(
        default=None, description="html: a printable page (also chosen by Accept: text/html)"
    )
