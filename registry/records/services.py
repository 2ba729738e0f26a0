"""Creation records: prepared before a file is signed (the prompt text sealed), and written
with its asset (``media.services``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from registry.generators.models import GeneratorEntry
from registry.generators.services import public_entry
from registry.records import prompts
from registry.records.models import CreationRecord
from registry.records.schemas import CreationInput


@dataclass(frozen=True)
class PreparedRecord:
    """A creation record decided before signing (the prompt text already sealed)."""

    generator_id: str
    generator: dict[str, Any]
    prompt_sha256: list[str] = field(default_factory=list)
    prompt_ciphertext: bytes | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    human: list[dict[str, Any]] = field(default_factory=list)


def snapshot(entry: GeneratorEntry) -> dict[str, Any]:
    """The inventory entry as it stands (what the record keeps of the tool)."""
    return public_entry(entry).model_dump(mode="json")


def prepare(
    entry: GeneratorEntry, creation: CreationInput | None, *, asset_id: str, prompt_key: bytes
) -> PreparedRecord:
    creation = creation or CreationInput()
    digests = [prompts.digest(p) for p in creation.prompts] + list(creation.prompt_sha256)
    sealed = (
        prompts.seal(prompt_key, asset_id, list(creation.prompts))
        if creation.keep_prompt_text
        else None
    )
    return PreparedRecord(
        generator_id=entry.id,
        generator=snapshot(entry),
        prompt_sha256=digests,
        prompt_ciphertext=sealed,
        inputs=[i.model_dump(exclude_none=True) for i in creation.inputs],
        human=[h.model_dump() for h in creation.human],
    )


def add_record(
    session: Session, *, asset_id: str, org_id: str, prepared: PreparedRecord, at: datetime
) -> CreationRecord:
    record = CreationRecord(
        asset_id=asset_id,
        org_id=org_id,
        generator_id=prepared.generator_id,
        generator=prepared.generator,
        prompt_sha256=prepared.prompt_sha256,
        prompt_ciphertext=prepared.prompt_ciphertext,
        inputs=prepared.inputs,
        human=prepared.human,
        created_at=at,
    )
    session.add(record)
    return record
