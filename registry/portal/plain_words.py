"""A grant in plain words, for the person it names: "your voice, for advertising, in the US
and Spain, until 30 Nov 2027, paid a flat fee"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pycountry

from registry.consent.models import ConsentGrant, Subject
from registry.consent.vocabulary import ANY_TERRITORY

_MODALITIES = {
    "voice": "voice",
    "singing": "singing voice",
    "likeness": "likeness",
    "face": "face",
    "body": "body",
    "name": "name",
}
_OPERATIONS = {
    "generate": "making new media",
    "alter": "altering recordings of you",
    "dub_translate": "dubbing and translation",
    "real_time": "real-time voice or video",
    "train": "training AI models",
    "fine_tune": "fine-tuning AI models",
}
_PAY = {
    "flat_fee": "paid a flat fee",
    "royalty": "paid royalties",
    "per_use": "paid per use",
    "union_scale": "paid union scale",
    "none": "unpaid",
    "other": "paid on other terms",
}
# Countries people name with an article or a short name.
_SHORT = {"US": "the US", "GB": "the UK", "AE": "the UAE", "NL": "the Netherlands"}
STATUS_WORDS = {
    "active": "In force",
    "pending_confirmation": "Waiting for your confirmation",
    "declined": "You declined it",
    "suspended": "Suspended",
    "revoked": "Withdrawn",
    "expired": "Ended",
    "superseded": "Replaced by a newer version",
    "not_yet_valid": "Not started yet",
}


def join(words: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def country(code: str) -> str:
    if code in _SHORT:
        return _SHORT[code]
    found = pycountry.countries.get(alpha_2=code)
    return str(getattr(found, "common_name", None) or getattr(found, "name", code))


def day(moment: datetime) -> str:
    return f"{moment.day} {moment:%b %Y}"


def territories(codes: list[str]) -> str:
    if ANY_TERRITORY in codes:
        return "worldwide"
    return "in " + join([country(c) for c in codes])


def payment(compensation: dict[str, Any] | None) -> str:
    if not compensation:
        return "with no payment recorded"
    return _PAY.get(str(compensation.get("model")), "paid on other terms")


def owner(grant: ConsentGrant, subject: Subject | None) -> str:
    """Whose voice: "your", or the person's when someone grants for them (a guardian, an
    estate, a representative, who holds the account)."""
    if subject is None or grant.granted_by.get("role") in (None, "subject", "union"):
        return "your"
    return f"{subject.display_name}'s"


def sentence(grant: ConsentGrant, subject: Subject | None = None) -> str:
    """The grant's scope, period and pay in one line (lower case: it follows a studio name)."""
    whose = owner(grant, subject)
    modalities = join([f"{whose} {_MODALITIES.get(m, m)}" for m in grant.modalities])
    purposes = join([str(p["category"]).replace("_", " ") for p in grant.purposes])
    return (
        f"{modalities}, for {purposes}, {territories(grant.territories)}, "
        f"until {day(grant.valid_until)}, {payment(grant.compensation)}"
    )


def operations(grant: ConsentGrant) -> str:
    return join([_OPERATIONS.get(o, o) for o in grant.operations])
