"""Signed Status List Tokens (``typ: statuslist+jwt``) of the registry's lists, kept per process.

A request reads the list's version (one indexed read, ``Database.read``; the requests of one
process that arrive while a read is under way share the next read, ``SharedRead``); the weak
ETag is
``W/"<list>-<version>-<epoch>"``, where the epoch counts half-periods of the token's validity,
so a conditional request is answered 304 without building or signing anything. On a new
version the process brings its copy of the byte array up to date from the entries changed
since the version it holds (the whole list the first time), compresses it and signs a token;
in a new epoch it only signs again. The version is read before the entries, so a copy is never
older than the version it is filed under.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
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


class SharedRead:
    """One read at a time for all the threads that want it, never older than their arrival.

    A thread that arrives while a read is under way waits for the next one, which starts
    after that read ends: every caller gets a value read after it asked, so a change committed
    before the request shows, and a burst of requests costs two reads instead of one each.
    """

    def __init__(self, read: Callable[[], int | None]) -> None:
        self._read = read
        self._cond = threading.Condition()
        self._started = 0
        self._finished = 0
        self._value: int | None = None
        self._error: BaseException | None = None

    def __call__(self) -> int | None:
        with self._cond:
            wanted = self._started + 1  # the first read to start from now on
            while self._finished < wanted:
                if self._started == self._finished:  # none under way: this thread reads
                    self._started += 1
                    break
                self._cond.wait()
            else:
                if self._error is not None:
                    raise self._error
                return self._value
        value, error = None, None
        try:
            value = self._read()
        except BaseException as exc:
            error = exc
        with self._cond:
            self._finished += 1
            self._value, self._error = value, error
            self._cond.notify_all()
        if error is not None:
            raise error
        return value


@dataclass
class _Copy:
    """One list as this process last built it."""

    version: int
    array: bytearray
    lst: str
    token: str = ""
    epoch: int = -1
    issued_at: float = 0.0  # when ``token`` was signed (the metrics' status-list age)


@dataclass(frozen=True)
class Published:
    etag: str
    token: str


def _read_version(database: Database, list_id: str) -> int | None:
    row = database.read(VERSION_QUERY, {"list_id": list_id})
    return int(row["version"]) if row is not None else None


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
        # Only lists that exist get one (ids only grow; a stranger's ids read on their own).
        self._shared_reads: dict[int, SharedRead] = {}

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
        number = int(list_id)
        shared = self._shared_reads.get(number)
        if shared is not None:
            version = shared()
        else:
            version = _read_version(database, list_id)
            if version is not None:
                with self._lock:
                    self._shared_reads.setdefault(
                        number, SharedRead(functools.partial(_read_version, database, list_id))
                    )
        if version is None:
            raise StatusListNotFound(f"no status list {list_id}")
        return number, version

    def publish(self, database: Database, list_id: int, version: int, now: float) -> Published:
        """The list's token at ``version`` or later, signed in this epoch."""
        epoch = self.epoch(now)
        with self._lock:
            copy = self._copies.get(list_id)
            if copy is None or copy.version < version:
                copy = self._copies[list_id] = self._bring_up_to_date(database, list_id, copy)
            if copy.epoch != epoch or not copy.token:
                copy.token, copy.epoch = self._sign(list_id, copy.lst, now), epoch
                copy.issued_at = now
            return Published(etag=self.etag(list_id, copy.version, now), token=copy.token)

    def issued_at(self) -> dict[int, float]:
        """When this process signed the token it serves of each list (epoch seconds)."""
        with self._lock:
            return {i: c.issued_at for i, c in self._copies.items() if c.token}

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
