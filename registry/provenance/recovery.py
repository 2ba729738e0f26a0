"""Which registered assets is this file, and is the consent behind them in force now?

The one answer verification (a file without intact credentials) and screening ask of a file:
``recover_file`` reads its watermark and fingerprints (``jobs.probe``, in a c2pa helper under
the budget), tries the watermark first (an exact key: the file is that asset), then the
fingerprints (``index.lookup``: the file is close to those assets), and gives each matched
asset with the status now of every grant it cites (``consent.scope.status_now``).

Nothing here is personal: an asset is its id, manifest label, generator, source type and
creation time; a grant is its id and status. Callers decide what else to show to whom.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.consent.models import ConsentGrant
from registry.consent.scope import status_now
from registry.media.models import MediaAsset
from registry.provenance import index
from registry.provenance.fingerprints import Kind
from registry.provenance.jobs import Probe
from registry.provenance.matching import probe_and_match

Method = Literal["watermark", "fingerprint"]
MAX_MATCHES = 5
IN_FORCE = "active"


@dataclass(frozen=True)
class GrantNow:
    """A grant a matched asset cites, and its status now (``unknown`` when it is gone)."""

    grant_id: str
    status_now: str

    @property
    def status_url(self) -> str:
        return f"/v1/grants/{self.grant_id}/status"


@dataclass(frozen=True)
class Recovered:
    """A registered asset the file matched, how closely, and its grants now."""

    asset: MediaAsset
    match: index.Match
    method: Method
    grants: list[GrantNow]

    @property
    def consent_in_force(self) -> bool:
        """Every grant it cites is active now (an asset citing none: False)."""
        return bool(self.grants) and all(g.status_now == IN_FORCE for g in self.grants)


@dataclass(frozen=True)
class Recovery:
    """The matches of one file, best first (empty: nothing registered is like it)."""

    matches: list[Recovered]
    probe: Probe

    @property
    def method(self) -> Method | None:
        return self.matches[0].method if self.matches else None


def recover_file(
    session: Session, *, path: Path, kind: Kind, now: datetime, limit: int = MAX_MATCHES
) -> Recovery:
    """Probe the file at ``path`` and look it up: the registered assets it is, by its
    watermark, else by its fingerprints, with their grants' status ``now``."""
    found, matches = probe_and_match(session, path, kind, limit=limit * 4)
    return Recovery(recovered(session, matches, now=now, limit=limit), found)


def recovered(
    session: Session, matches: list[index.Match], *, now: datetime, limit: int
) -> list[Recovered]:
    """The matched assets (best first, at most ``limit``) with their grants' status now."""
    method: Method = "watermark" if matches and matches[0].unit == "watermark" else "fingerprint"
    chosen = index.best_per_asset(matches)[:limit]
    assets = _assets(session, [m.asset_id for m in chosen])
    grants = _grants(session, [g for a in assets.values() for g in a.grant_ids])
    return [
        Recovered(
            asset=assets[m.asset_id],
            match=m,
            method=method,
            grants=[
                GrantNow(g, status_now(grants[g], now) if g in grants else "unknown")
                for g in assets[m.asset_id].grant_ids
            ],
        )
        for m in chosen
        if m.asset_id in assets
    ]


def _assets(session: Session, ids: Sequence[str]) -> dict[str, MediaAsset]:
    if not ids:
        return {}
    query = sa.select(MediaAsset).where(col(MediaAsset.id).in_(ids))
    return {asset.id: asset for asset in session.scalars(query)}


def _grants(session: Session, ids: Sequence[str]) -> dict[str, ConsentGrant]:
    if not ids:
        return {}
    query = sa.select(ConsentGrant).where(col(ConsentGrant.id).in_(set(ids)))
    return {grant.id: grant for grant in session.scalars(query)}
