"""The provenance index: each 64-bit code of a registered asset, cut into three chunks.

One row per code (a fingerprint or the watermark key) of an asset. ``c0``, ``c1``, ``c2`` are
the code's chunks of 22, 21 and 21 bits from its high bits down; each is indexed with
``family`` so that a lookup can ask for exact chunk values (multi-index hashing, see
``index``). ``code`` is the whole value as a signed 64-bit integer (BIGINT on both
databases), for the Hamming distance; a code longer than 64 bits (audio: 256) keeps the rest
in ``tail`` and is found by its first 64 bits.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class ProvenanceCode(SQLModel, table=True):
    __tablename__ = "provenance_codes"
    __table_args__ = (
        sa.Index("ix_provenance_codes_c0", "family", "c0"),
        sa.Index("ix_provenance_codes_c1", "family", "c1"),
        sa.Index("ix_provenance_codes_c2", "family", "c2"),
    )

    asset_id: str = Field(foreign_key="media_assets.id", primary_key=True, max_length=36)
    # image | audio | video-frame | watermark (``fingerprints.Fingerprint.unit``)
    family: str = Field(primary_key=True, max_length=16)
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    code: int = Field(sa_type=sa.BigInteger)
    c0: int
    c1: int
    c2: int
    # The bits after the first 64 of a longer code (audio: 192 more), compared, not indexed.
    tail: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    # Where in the asset the code was taken (a video frame's time), if it is a part of it.
    start_ms: int | None = Field(default=None)
