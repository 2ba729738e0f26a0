"""The C2PA manifest the registry embeds (the profile in docs/architecture.md).

Labels the file as AI-generated, says which generator made it, binds it to the consent
grants it used (by the SHA-256 of their tokens, never by personal data), states the training
and mining preference, and carries the fields California SB 942 and China GB 45438 ask for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from registry.c2pa.labels import (
    ACTIONS_LABEL,
    CONSENT_LABEL,
    DISCLOSURE_LABEL,
    IPTC_SOURCE_TYPE,
    TRAINING_ENTRIES,
    TRAINING_LABEL,
)
from registry.media.authorization import AuthorizedUse
from registry.provenance.fingerprints import Fingerprint
from registry.provenance.softbinding import soft_binding_assertions, watermarked_action
from registry.records.manifest import creation_assertion, human_actions

REGISTRY_SOFTWARE = {"name": "Consent Registry", "version": "0.1.0"}


@dataclass(frozen=True)
class ManifestFacts:
    """Everything the manifest states besides the grants."""

    asset_id: str
    title: str
    generator_name: str
    generator_version: str
    digital_source_type: str
    provider: str
    provider_id: str
    registry_url: str
    created_at: datetime
    # From the inventory entry (records.manifest): who makes the generator, its public facts,
    # and what the people did ({role, action, description}).
    generator_provider: str | None = None
    generator_facts: dict[str, Any] | None = None
    human: tuple[dict[str, Any], ...] = ()


def training_use(uses: list[AuthorizedUse]) -> str:
    """``allowed`` only when every grant allows training; any refusal wins (a person's
    do_not_train declaration is a refusal)."""
    terms = {"not_allowed" if u.do_not_train else u.grant.training for u in uses}
    if terms == {"allowed"}:
        return "allowed"
    if "not_allowed" in terms or not terms:
        return "notAllowed"
    return "constrained"


def _actions(facts: ManifestFacts, *, watermarked: bool) -> dict[str, Any]:
    actions: list[dict[str, Any]] = [
        {
            "action": "c2pa.created",
            "digitalSourceType": IPTC_SOURCE_TYPE + facts.digital_source_type,
            "softwareAgent": {
                "name": facts.generator_name,
                "version": facts.generator_version,
            },
            "when": facts.created_at.isoformat(),
        },
        *human_actions(facts.human),
    ]
    if watermarked:
        actions.append(watermarked_action(software_agent=REGISTRY_SOFTWARE))
    return {"label": ACTIONS_LABEL, "data": {"actions": actions}}


def _training(uses: list[AuthorizedUse]) -> dict[str, Any]:
    use = training_use(uses)
    return {
        "label": TRAINING_LABEL,
        "data": {"entries": {e: {"use": use} for e in TRAINING_ENTRIES}},
    }


def _consent(uses: list[AuthorizedUse], facts: ManifestFacts) -> dict[str, Any]:
    base = facts.registry_url.rstrip("/")
    return {
        "label": CONSENT_LABEL,
        "data": {
            "registry": base,
            "jwks": f"{base}/.well-known/jwks.json",
            "grants": [
                {
                    "grant_id": u.grant.id,
                    "sha256": u.grant.token_sha256,
                    "version": u.grant.version,
                    "modalities": sorted(u.use.modalities),
                    "purpose": u.use.purpose,
                    "territory": u.use.territory,
                    "status_url": f"{base}/v1/grants/{u.grant.id}/status",
                }
                for u in uses
            ],
        },
    }


def _disclosure(facts: ManifestFacts) -> dict[str, Any]:
    created = facts.created_at.isoformat()
    return {
        "label": DISCLOSURE_LABEL,
        "data": {
            "ai_generated": True,
            # California SB 942 latent disclosure.
            "sb942": {
                "provider": facts.provider,
                "system_name": facts.generator_name,
                "system_version": facts.generator_version,
                "created_at": created,
                "content_id": facts.asset_id,
                **(
                    {"system_provider": facts.generator_provider}
                    if facts.generator_provider
                    else {}
                ),
            },
            # China GB 45438-2025 implicit label (metadata) elements; Label "1" = AI-generated.
            "gb45438": {
                "AIGC": {
                    "Label": "1",
                    "ContentProducer": facts.provider_id,
                    "ProduceID": facts.asset_id,
                }
            },
        },
    }


def build_manifest(
    uses: list[AuthorizedUse],
    facts: ManifestFacts,
    *,
    fingerprints: Iterable[Fingerprint] = (),
    watermark_key: bytes | None = None,
) -> dict[str, Any]:
    """The manifest definition handed to the c2pa Builder: with ``fingerprints``, the soft
    bindings; with ``watermark_key`` (a mark was embedded), the ``c2pa.watermarked`` action
    and the watermark's soft binding."""
    bindings = soft_binding_assertions(fingerprints, watermark_key=watermark_key)
    return {
        "claim_generator_info": [REGISTRY_SOFTWARE],
        "title": facts.title,
        "assertions": [
            _actions(facts, watermarked=watermark_key is not None),
            _training(uses),
            _consent(uses, facts),
            _disclosure(facts),
            *(
                [creation_assertion(facts.generator_facts, facts.human)]
                if facts.generator_facts
                else []
            ),
            *bindings,
        ],
    }
