"""The closed vocabularies of consent grants (what a grant may name)."""

from __future__ import annotations

from functools import lru_cache

import pycountry

MODALITIES = ("voice", "likeness", "face", "body", "singing", "name")
OPERATIONS = ("generate", "alter", "dub_translate", "real_time", "train", "fine_tune")
TRAINING_OPERATIONS = frozenset({"train", "fine_tune"})
MEDIA_TYPES = ("image", "audio", "video")
GRANTOR_ROLES = ("subject", "guardian", "estate", "authorized_representative", "union")
TRAINING_TERMS = ("allowed", "not_allowed", "constrained")
EVIDENCE_KINDS = (
    "signed_rider",
    "consent_video",
    "id_check",
    "liveness",
    "authority_document",
    "subject_confirmation",  # recorded by the portal when the person confirms the grant
)
REVOCATION_EFFECTS = ("stop_new_use", "unpublish")
GRANT_STATUSES = (
    "active",
    "suspended",
    "revoked",
    "expired",
    "superseded",
    "pending_confirmation",  # issued with requires_confirmation: the person has not confirmed
    "declined",  # the person declined it in the portal (final)
)
PENDING_CONFIRMATION = "pending_confirmation"
# What a person may declare about themselves (registry/consent/declarations.py).
DO_NOT_TRAIN = "do_not_train"
DO_NOT_SYNTHESIZE = "do_not_synthesize"
DECLARATIONS = (DO_NOT_TRAIN, DO_NOT_SYNTHESIZE)
ANY_TERRITORY = "*"


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes."""
    return frozenset(c.alpha_2 for c in pycountry.countries)


def is_territory(code: str) -> bool:
    return code == ANY_TERRITORY or code in country_codes()


@lru_cache(maxsize=1)
def currency_codes() -> frozenset[str]:
    """ISO 4217 codes."""
    return frozenset(c.alpha_3 for c in pycountry.currencies)
