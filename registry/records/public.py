"""What verification shows of a work's creation: the generator's public inventory facts and
the people's contributions, as the file's manifest states them (``org.consentregistry.creation``)
or, when its label is gone, as the registry recorded them. Never the risk class, the approver,
prompts or inputs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session

from registry.c2pa.adapter import ManifestReport
from registry.c2pa.labels import CREATION_LABEL
from registry.generators.schemas import GeneratorFacts
from registry.records.models import CreationRecord


class PublicContribution(BaseModel):
    role: Annotated[str, Field(max_length=100)]
    action: Annotated[str, Field(max_length=32)]
    description: Annotated[str, Field(max_length=500)]


class CreationDisclosure(BaseModel):
    """How the work was made, in public facts."""

    source: Literal["manifest", "registry"] = Field(
        description="manifest: what the file states; registry: what was recorded at signing "
        "(the file's label is gone)"
    )
    generator: GeneratorFacts | None
    human: list[PublicContribution] = Field(max_length=20)


def _disclosure(source: str, generator: Any, human: Any) -> CreationDisclosure | None:
    """The facts, or None when they are not what the registry writes (a file may say anything)."""
    try:
        return CreationDisclosure.model_validate(
            {"source": source, "generator": generator, "human": human or []}
        )
    except ValidationError:
        return None


def from_manifest(report: ManifestReport) -> CreationDisclosure | None:
    data = report.assertions.get(CREATION_LABEL)
    if not isinstance(data, dict):
        return None
    return _disclosure("manifest", data.get("generator"), data.get("human"))


def from_record(session: Session, asset_id: str) -> CreationDisclosure | None:
    record = session.get(CreationRecord, asset_id)
    if record is None:
        return None
    # GeneratorFacts keeps only the public facts of the snapshot (risk class, approver and
    # state are dropped).
    return _disclosure("registry", record.generator, record.human)


def creation_disclosure(
    session: Session, report: ManifestReport, asset_id: str | None, *, recovered: bool
) -> CreationDisclosure | None:
    """From the manifest, or from the record when the file was recognised without its label."""
    if recovered:
        return from_record(session, asset_id) if asset_id else None
    return from_manifest(report)
