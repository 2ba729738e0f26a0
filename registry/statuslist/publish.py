"""Signed Status List Tokens (``typ: statuslist+jwt``) of the registry's lists, kept per process.

A request reads the list's version (one indexed read, ``Database.read``); the weak ETag is
``W/"<list>-<version>-<epoch>"``, where the epoch counts half-periods of the token's validity,
so a conditional request is answered 304 without building or signing anything. On a new
version the process brings its copy of the byte array up to date from the entries changed
since the version it holds (the whole list the first time), compresses it and signs a token;
in a new epoch it only signs again. The version is read before the entries, so a copy is never
older than the version it is filed under.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

import jwt
import sqlalchemy as sa
from sqlmodel import col

from registry.db import READ_ONLY, Database
from registry.keys.keyring import KeyRing
from registry.statuslist.codec import BITS, byte_length, encode_lst, set_status
from registry.statuslist.errors import StatusListNotFound
from registry.statuslist.models import StatusList, StatusListEntry
from registry.statuslist.offline import ALGORITHM, STATUS_LIST_TOKEN_TYPE

PATH = "/v1/status-lists/{list_id}"
_LIST_ID = re.compile(r"[1-9][0-9]{0,8}")  # as the URIs write them: no sign, no leading zero
VERSION_QUERY = sa.select(col(StatusList.version)).where(
    col(StatusList.id) == sa.bindparam("list_id")
)
_LIST_QUERY = sa.select(col(StatusList.version), col(StatusList.size)).where(
    col(StatusList.id) == sa.bindparam("list_id")
)


@dataclass
class _Copy:
    """One list as this process last built it."""

    version: int
    array: bytearray
    lst: str
    token: str = ""
    epoch: int = -1


@dataclass(frozen=True)
class Published:
    etag: str
    token: str


class StatusListPublisher:
    """Where the lists live (``uri``), how big new lists are, and their signed tokens."""

    def __init__(
        self,
        *,
        keyring: KeyRing,
        issuer: str,
        base_url: str,
        size: int,
        ttl_seconds: int,
        validity_seconds: int,
    ) -> None:
        self.keyring = keyring
        self.issuer = issuer
        self.base_url = base_url.rstrip("/")
        self.size = size
        self.ttl_seconds = ttl_seconds
        self.validity_seconds = validity_seconds
        self._copies: dict[int, _Copy] = {}
        self._lock = threading.Lock()

    def uri(self, list_id: int) -> str:
        """The list's URI: the ``uri`` of the tokens it holds and the ``sub`` of its token."""
        return self.base_url + PATH.format(list_id=list_id)

    def epoch(self, now: float) -> int:
        return int(now) // max(1, self.validity_seconds // 2)

    def etag(self, list_id: int, version: int, now: float) -> str:
        return f'W/"{list_id}-{version}-{self.epoch(now)}"'

    def version(self, database: Database, list_id: str) -> tuple[int, int]:
        """(list id, current version); a list that does not exist is a 404."""
        if not _LIST_ID.fullmatch(list_id):
            raise StatusListNotFound(f"no status list {list_id}")
        row = database.read(VERSION_QUERY, {"list_id": list_id})
        if row is None:
            raise StatusListNotFound(f"no status list {list_id}")
        return int(list_id), int(row["version"])

    def publish(self, database: Database, list_id: int, version: int, now: float) -> Published:
        """The list's token at ``version`` or later, signed in this epoch."""
        epoch = self.epoch(now)
        with self._lock:
            copy = self._copies.get(list_id)
            if copy is None or copy.version < version:
                copy = self._copies[list_id] = self._bring_up_to_date(database, list_id, copy)
            if copy.epoch != epoch or not copy.token:
                copy.token, copy.epoch = self._sign(list_id, copy.lst, now), epoch
            return Published(etag=self.etag(list_id, copy.version, now), token=copy.token)

    def _bring_up_to_date(self, database: Database, list_id: int, copy: _Copy | None) -> _Copy:
        with database.engine.connect().execution_options(**{READ_ONLY: True}) as connection:
            row = connection.execute(_LIST_QUERY, {"list_id": list_id}).first()
            if row is None:
                raise StatusListNotFound(f"no status list {list_id}")
            version, size = int(row.version), int(row.size)
            entries = sa.select(col(StatusListEntry.idx), col(StatusListEntry.status)).where(
                col(StatusListEntry.list_id) == list_id
            )
            if copy is not None and len(copy.array) == byte_length(size, BITS):
                array = copy.array
                entries = entries.where(col(StatusListEntry.changed_version) > copy.version)
            else:  # everything starts valid (0): only the other entries need writing
                array = bytearray(byte_length(size, BITS))
                entries = entries.where(col(StatusListEntry.status) != 0)
            for idx, status in connection.execute(entries):
                set_status(array, idx, status, BITS)
        return _Copy(version=version, array=array, lst=encode_lst(array))

    def _sign(self, list_id: int, lst: str, now: float) -> str:
        issued = int(now)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": self.uri(list_id),
            "iat": issued,
            "exp": issued + self.validity_seconds,
            "ttl": self.ttl_seconds,
            "status_list": {"bits": BITS, "lst": lst},
        }
        key = self.keyring.active
        return jwt.encode(
            claims,
            key.private_key,
            algorithm=ALGORITHM,
            headers={"kid": key.kid, "typ": STATUS_LIST_TOKEN_TYPE},
        )
