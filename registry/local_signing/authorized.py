"""At verification: does a file signed in a session carry what the session authorized?

The registry signed the claim without seeing its assertions' contents (c2pa salts them: see
``claim``), so a pipeline could have signed altered ones under the right labels. c2pa's
validation proves the file's assertions are those the signed claim hashed; this compares
them with the session's manifest definition. A difference fails the ``integrity`` check with
``integrity.not_as_authorized``, whatever the cited grants say.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.c2pa.adapter import ManifestReport
from registry.c2pa.labels import ACTIONS_LABEL, ACTIONS_LABELS
from registry.local_signing.claim import base_label
from registry.local_signing.models import SigningSession
from registry.media.models import MediaAsset
from registry.verification.schemas import Check


def _covers(wanted: Any, found: Any) -> bool:
    """``found`` states everything ``wanted`` does (c2pa may add fields of its own to a map)."""
    if isinstance(wanted, dict):
        return isinstance(found, dict) and all(
            key in found and _covers(value, found[key]) for key, value in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(found, list)
            and len(found) == len(wanted)
            and all(_covers(w, f) for w, f in zip(wanted, found, strict=True))
        )
    return bool(wanted == found)


def _found(report: ManifestReport, label: str) -> list[Any]:
    labels = ACTIONS_LABELS if label == ACTIONS_LABEL else (label,)
    return [data for name, data in report.assertions.items() if base_label(name) in labels]


def differences(session: Session, report: ManifestReport, asset: MediaAsset) -> list[str]:
    """Labels of the session's assertions the file states otherwise (or not at all)."""
    signing_session = session.scalars(
        sa.select(SigningSession).where(col(SigningSession.asset_id) == asset.id)
    ).first()
    if signing_session is None:
        return []
    wanted: dict[str, list[Any]] = {}
    for assertion in signing_session.definition["assertions"]:
        wanted.setdefault(base_label(assertion["label"]), []).append(assertion["data"])
    differ = []
    for label, datas in sorted(wanted.items()):
        found = _found(report, label)
        exact = label != ACTIONS_LABEL  # c2pa rewrites actions (v2); the rest is ours, as given
        same = len(found) == len(datas) and all(
            (w == f) if exact else _covers(w, f) for w, f in zip(datas, found, strict=True)
        )
        if not same:
            differ.append(label)
    return differ


def integrity_as_authorized(
    session: Session, report: ManifestReport, asset: MediaAsset
) -> Check | None:
    """A failed ``integrity`` check when a file signed in a session differs from what it
    authorized; None when it does not (or was uploaded: the registry embedded its manifest)."""
    if asset.stored or not report.has_manifest:
        return None
    differ = differences(session, report, asset)
    if not differ:
        return None
    return Check(
        check="integrity",
        status="fail",
        code="integrity.not_as_authorized",
        message="The registry signed this file's claim in a signing session, but the file "
        f"states otherwise than the session authorized ({', '.join(differ)}).",
    )
