"""Python client for pipelines: sign generated media and fetch the signed file; verify or
screen (platforms) a file; and for relying parties: check a consent token offline against the
registry's status lists.

with RegistryClient("https://registry.example", client_id, client_secret) as registry:
    asset = registry.sign_media("take-1.wav", grants=[GrantCitation(...)], generator="Forge@2.1")
    registry.download(asset.id, "take-1.signed.wav")
    # or cite the inventory entry by id, with a creation record:
    registry.sign_media("cut.mp4", grants, generator_id=GENERATOR_ID,
                        creation={"human": [parse_human("editor/editing: cut and color grade")]})
    registry.media_record(asset.id)  # tools, grants, people's contributions, when

with RegistryClient("https://registry.example") as registry:  # no credentials needed
    check = registry.check_consent_token(token)  # check.valid, check.status_name
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from registry.records.vocabulary import HUMAN_ACTIONS
from registry.statuslist.offline import (
    STATUS_LIST_MEDIA_TYPE,
    PublicKeys,
    StatusList,
    TokenCheck,
    TokenCheckError,
    UnknownKey,
    check_consent_token,
    read_status_list,
    referenced_list,
)

__all__ = [
    "GrantCitation",
    "RegistryApiError",
    "RegistryClient",
    "RegistryUnreachable",
    "SignedMedia",
    "TokenCheck",
    "TokenCheckError",
    "parse_human",
]

Progress = Callable[[int, int], None]
CHUNK = 1024 * 1024


class RegistryApiError(Exception):
    """The registry answered with a problem; ``problem`` is its RFC 9457 body."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.type = str(problem.get("type", ""))
        super().__init__(self.describe())

    def describe(self) -> str:
        title = self.problem.get("title") or "Request failed"
        detail = self.problem.get("detail") or ""
        text = f"{title} (HTTP {self.status})"
        if detail and detail != title:
            text += f": {detail}"
        for error in self.problem.get("errors", [])[1:5]:
            text += f"\n  - {error.get('loc')}: {error.get('message')}"
        return text


class RegistryUnreachable(Exception):
    """The registry could not be reached at all."""


@dataclass(frozen=True)
class GrantCitation:
    """A grant cited for a file, and the use made of it."""

    grant_id: str
    modalities: tuple[str, ...]
    purpose: str
    territory: str

    def as_json(self) -> dict[str, Any]:
        return {
            "grant_id": self.grant_id,
            "modalities": list(self.modalities),
            "purpose": self.purpose,
            "territory": self.territory,
        }


@dataclass(frozen=True)
class SignedMedia:
    id: str
    sha256: str | None  # None: signed without uploading (sign_local), the registry never saw it
    source_sha256: str
    manifest_id: str
    mime_type: str
    size: int
    grant_ids: list[str]
    generator: dict[str, str]
    digital_source_type: str
    title: str | None
    created_at: str
    stored: bool
    download_url: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SignedMedia:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


def parse_human(text: str) -> dict[str, str]:
    """``[ROLE/]ACTION: DESCRIPTION`` -> ``{"role", "action", "description"}``; the role
    defaults to ``contributor``, e.g. ``editing: cut and color grade``."""
    head, sep, description = text.partition(":")
    role, _, action = head.strip().rpartition("/")
    action = action.strip().replace(" ", "_")
    if not sep or not description.strip() or action not in HUMAN_ACTIONS:
        raise ValueError(
            f"a human contribution is [ROLE/]ACTION: DESCRIPTION with ACTION one of "
            f"{', '.join(HUMAN_ACTIONS)}, not {text!r}"
        )
    return {
        "role": role.strip() or "contributor",
        "action": action,
        "description": description.strip(),
    }


def parse_generator(text: str) -> dict[str, str]:
    """``NAME@VERSION`` -> ``{"name", "version"}``."""
    name, sep, version = text.rpartition("@")
    if not sep or not name or not version:
        raise ValueError(f"generator must be NAME@VERSION, not {text!r}")
    return {"name": name, "version": version}


class _ReadProgress:
    """A file whose reads report progress (httpx streams multipart files by reading them)."""

    def __init__(self, handle: BinaryIO, total: int, progress: Progress) -> None:
        self._handle, self._total, self._progress, self._done = handle, total, progress, 0

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(CHUNK if size is None or size < 0 else size)
        self._done += len(data)
        self._progress(self._done, self._total)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


def _signing_metadata(
    grants: Iterable[GrantCitation],
    generator: str | dict[str, str] | None,
    generator_id: str | None,
    creation: dict[str, Any] | None,
    digital_source_type: str,
    title: str | None,
) -> dict[str, Any]:
    """The signing metadata of ``POST /v1/media`` (and of a signing session)."""
    metadata: dict[str, Any] = {
        "grants": [g.as_json() for g in grants],
        "digital_source_type": digital_source_type,
    }
    if generator_id is not None:
        metadata["generator_id"] = generator_id
    if generator is not None:
        metadata["generator"] = (
            parse_generator(generator) if isinstance(generator, str) else generator
        )
    if title:
        metadata["title"] = title
    if creation:
        metadata["creation"] = creation
    return metadata


class RegistryClient:
    """A session with the registry as one API client (OAuth 2.0 client credentials).

    Without credentials only anonymous calls work (``verify_media`` where the registry
    allows anonymous verification).
    """

    def __init__(
        self,
        base_url: str,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        timeout: float = 600.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = (client_id, client_secret)
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=10.0),
            transport=transport,
        )
        self._token: str | None = None
        self._token_expires = 0.0
        self._keys: PublicKeys | None = None
        # Fetched status lists by URI: (list, ETag, when to ask again).
        self._lists: dict[str, tuple[StatusList, str, float]] = {}

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> httpx.Response:
        headers = {**(self._auth_headers() if auth else {}), **kwargs.pop("headers", {})}
        try:
            response = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise RegistryUnreachable(
                f"cannot reach the registry at {self.base_url}: {exc}"
            ) from exc
        _raise_for_problem(response)
        return response

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token()}"}

    def _post_file(
        self, url: str, path: Path, *, progress: Progress | None, auth: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """POST ``path`` as the multipart ``file`` part, streamed from disk."""
        with path.open("rb") as handle:
            body: Any = handle
            if progress is not None:
                body = _ReadProgress(handle, path.stat().st_size, progress)
            return self._send(
                "POST",
                url,
                auth=auth,
                files={"file": (path.name, body, "application/octet-stream")},
                **kwargs,
            )

    def access_token(self) -> str:
        """A valid access token, renewed a minute before it expires."""
        if self._token is None or time.time() > self._token_expires - 60:
            client_id, secret = self._credentials
            if not client_id or not secret:
                raise RegistryApiError(
                    401,
                    {
                        "title": "No credentials",
                        "detail": "set a client id and secret to call this endpoint",
                    },
                )
            response = self._send(
                "POST",
                "/v1/auth/token",
                auth=False,
                data={
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": secret,
                },
            )
            body = response.json()
            self._token = str(body["access_token"])
            self._token_expires = time.time() + float(body["expires_in"])
        return self._token

    def sign_media(
        self,
        path: str | Path,
        grants: Iterable[GrantCitation],
        generator: str | dict[str, str] | None = None,
        *,
        generator_id: str | None = None,
        creation: dict[str, Any] | None = None,
        digital_source_type: str = "trainedAlgorithmicMedia",
        title: str | None = None,
        progress: Progress | None = None,
    ) -> SignedMedia:
        """Upload a generated file with the grants it used; returns the signed asset.

        The generator is an approved entry of the organization's inventory: ``generator_id``,
        or ``generator`` (``NAME@VERSION``). ``creation``: the creation record
        (``prompts``, ``prompt_sha256``, ``keep_prompt_text``, ``inputs``, ``human``)."""
        path = Path(path)
        metadata = _signing_metadata(
            grants, generator, generator_id, creation, digital_source_type, title
        )
        response = self._post_file(
            "/v1/media", path, progress=progress, data={"metadata": json.dumps(metadata)}
        )
        return SignedMedia.from_json(response.json())

    def sign_local(
        self,
        path: str | Path,
        dest: str | Path,
        grants: Iterable[GrantCitation],
        generator: str | dict[str, str] | None = None,
        *,
        generator_id: str | None = None,
        creation: dict[str, Any] | None = None,
        digital_source_type: str = "trainedAlgorithmicMedia",
        title: str | None = None,
        fingerprints: Iterable[str] = (),
        source_sha256: str | None = None,
        progress: Progress | None = None,
        hash_progress: Progress | None = None,
    ) -> SignedMedia:
        """Sign a file without uploading it: c2pa runs here, the registry authorizes the use
        (exactly as for ``sign_media``) and signs the claim; the media never leaves this
        machine. Writes the signed copy to ``dest`` (only when signed) and returns the asset
        the registry recorded (``stored`` false). ``fingerprints``: ISCC units of the content
        (``registry.provenance.fingerprints``), recorded as soft bindings. ``source_sha256``:
        the file's SHA-256 when the pipeline has it already; otherwise it is computed in a
        thread beside c2pa's own pass over the file.
        """
        import base64

        from registry.intake.sniff import sniff
        from registry.local_signing.pipeline import (
            SigningRefused,
            file_facts,
            sign_file_locally,
        )

        path, dest = Path(path), Path(dest)
        media_format = sniff(path)
        body: dict[str, Any] = {
            **_signing_metadata(
                grants, generator, generator_id, creation, digital_source_type, title
            ),
            "mime_type": media_format.mime_type,
            "size": path.stat().st_size,
            "fingerprints": list(fingerprints),
        }
        # The source's SHA-256 is computed beside c2pa's own pass over the file (hashlib
        # releases the GIL) and sent with the signature: no extra pass before signing.
        with ThreadPoolExecutor(1, thread_name_prefix="source-sha256") as pool:
            if source_sha256 is None:
                facts = pool.submit(file_facts, path, progress=hash_progress)
            else:
                facts = Future()
                facts.set_result((source_sha256, body["size"]))
                body["source_sha256"] = source_sha256
            session = self._json("POST", "/v1/signing-sessions", json=body)
            signed: list[dict[str, Any]] = []

            def sign(manifest_store: bytes) -> bytes:
                sha256, size = facts.result()
                if size != body["size"]:
                    raise RuntimeError(f"{path} changed while it was signed")
                answer = self._json(
                    "POST",
                    f"/v1/signing-sessions/{session['id']}/signature",
                    json={
                        "manifest": base64.b64encode(manifest_store).decode("ascii"),
                        "source_sha256": sha256,
                    },
                )
                signed.append(answer["media"])
                return base64.b64decode(answer["signature"])

            try:
                sign_file_locally(
                    source=path,
                    dest=dest,
                    mime_type=media_format.mime_type,
                    definition=session["manifest_definition"],
                    certificate_chain=session["certificate_chain"],
                    sign=sign,
                    progress=progress,
                )
            except SigningRefused as exc:
                raise exc.cause from None
        return SignedMedia.from_json(signed[-1])

    def list_media(
        self,
        *,
        grant_id: str | None = None,
        created_after: str | None = None,
        created_before: str | None = None,
    ) -> Iterator[SignedMedia]:
        """Every media asset of the organization (uploaded or not), page after page."""
        params: dict[str, Any] = {
            key: value
            for key, value in (
                ("grant_id", grant_id),
                ("created_after", created_after),
                ("created_before", created_before),
            )
            if value is not None
        }
        yield from (SignedMedia.from_json(item) for item in self._pages("/v1/media", params))

    def verify_media(self, path: str | Path, *, progress: Progress | None = None) -> dict[str, Any]:
        """The registry's verdict on a file (see the VerifyResult schema); nothing is stored."""
        response = self._post_file(
            "/v1/verify", Path(path), progress=progress, auth=self._credentials[0] is not None
        )
        return response.json()  # type: ignore[no-any-return]

    def screen_media(self, path: str | Path, *, progress: Progress | None = None) -> dict[str, Any]:
        """Is the file registered synthetic media, and is its consent in force now? (see the
        ScreenResult schema: ``registered``, ``consent``, ``match``...); nothing is stored."""
        response = self._post_file(
            "/v1/screen", Path(path), progress=progress, auth=self._credentials[0] is not None
        )
        return response.json()  # type: ignore[no-any-return]

    def public_keys(self, *, refresh: bool = False) -> PublicKeys:
        """The registry's token keys (``/.well-known/jwks.json``), fetched once."""
        if self._keys is None or refresh:
            self._keys = PublicKeys(self._send("GET", "/.well-known/jwks.json", auth=False).json())
        return self._keys

    def status_list(self, uri: str) -> StatusList:
        """The verified status list at ``uri`` (a ``uri`` of a consent token's ``status``).

        It is fetched from this client's registry (the URI's path), verified (signature with
        the JWKS, ``typ``, ``sub`` == ``uri``, ``exp``) and kept for its ``ttl``; after that a
        conditional request (``If-None-Match``) asks whether it changed.
        """
        now = time.time()
        cached = self._lists.get(uri)
        if cached is not None and now < cached[2]:
            return cached[0]
        split = httpx.URL(uri)
        path = split.raw_path.decode() or "/"
        headers = {"Accept": STATUS_LIST_MEDIA_TYPE}
        if cached is not None:
            headers["If-None-Match"] = cached[1]
        response = self._send("GET", path, auth=False, headers=headers)
        if response.status_code == 304 and cached is not None:
            status_list, etag = cached[0], cached[1]
        else:
            status_list = self._read_list(response.text, uri, now)
            etag = response.headers.get("ETag", "")
        self._lists[uri] = (status_list, etag, now + (status_list.ttl or 0))
        return status_list

    def _read_list(self, token: str, uri: str, now: float) -> StatusList:
        try:
            return read_status_list(token, self.public_keys(), uri=uri, now=now)
        except UnknownKey:  # signed by a key newer than the JWKS held
            return read_status_list(token, self.public_keys(refresh=True), uri=uri, now=now)

    def check_consent_token(self, token: str, *, issuer: str | None = None) -> TokenCheck:
        """Verify a consent token and look up its status-list entry, offline once the JWKS
        and the list are held. ``TokenCheck.valid`` is False for a revoked (``invalid``) or
        ``suspended`` token; a token without a ``status`` claim (issued before status lists)
        is checked by itself. Raises :class:`TokenCheckError` when no statement can be made.
        """
        uri = referenced_list(token)
        lists = {uri: self.status_list(uri)} if uri else {}
        try:
            return check_consent_token(token, self.public_keys(), lists, issuer=issuer)
        except UnknownKey:  # issued after a key rotation the JWKS held predates
            return check_consent_token(token, self.public_keys(refresh=True), lists, issuer=issuer)

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._send(method, path, **kwargs).json()
        return result

    def _pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """The items of every page of a cursor-paginated list, in order."""
        params = dict(params)
        while True:
            page = self._json("GET", path, params=params)
            yield from page["items"]
            if not page.get("next_cursor"):
                return
            params["cursor"] = page["next_cursor"]

    def create_generator(self, **fields: Any) -> dict[str, Any]:
        """Add a generator to the inventory (pending approval); see GeneratorCreate."""
        return self._json("POST", "/v1/generators", json=fields)

    def list_generators(self, *, state: str | None = None) -> list[dict[str, Any]]:
        """Every generator of the organization (all pages), optionally in one state."""
        params: dict[str, Any] = {"limit": 100, **({"state": state} if state else {})}
        return list(self._pages("/v1/generators", params))

    def get_generator(self, generator_id: str) -> dict[str, Any]:
        return self._json("GET", f"/v1/generators/{generator_id}")

    def update_generator(self, generator_id: str, **fields: Any) -> dict[str, Any]:
        return self._json("PATCH", f"/v1/generators/{generator_id}", json=fields)

    def approve_generator(
        self, generator_id: str, *, approver: str | None = None
    ) -> dict[str, Any]:
        body = {"approver": approver} if approver else {}
        return self._json("POST", f"/v1/generators/{generator_id}/approve", json=body)

    def retire_generator(self, generator_id: str, *, reason: str | None = None) -> dict[str, Any]:
        body = {"reason": reason} if reason else {}
        return self._json("POST", f"/v1/generators/{generator_id}/retire", json=body)

    def media_record(self, media_id: str) -> dict[str, Any]:
        """The creation record of a signed work: tools, grants, contributions, when."""
        return self._json("GET", f"/v1/media/{media_id}/record")

    def media_record_page(self, media_id: str) -> str:
        """The same record as a printable HTML page."""
        params = {"format": "html"}
        return self._send("GET", f"/v1/media/{media_id}/record", params=params).text

    def get_media(self, media_id: str) -> SignedMedia:
        return SignedMedia.from_json(self._json("GET", f"/v1/media/{media_id}"))

    def download(
        self, media_id: str, dest: str | Path, *, progress: Progress | None = None
    ) -> Path:
        """Write the signed file to ``dest`` (following a presigned-URL redirect)."""
        dest = Path(dest)
        request = self._http.build_request(
            "GET",
            f"/v1/media/{media_id}/content",
            headers=self._auth_headers(),
        )
        response = self._stream(request)
        if response.status_code == 302:
            response.close()
            # The presigned URL carries its own authorization; our token must not follow it.
            response = self._stream(httpx.Request("GET", response.headers["Location"]))
        try:
            with dest.open("wb") as out:
                total = int(response.headers.get("Content-Length", 0))
                for chunk in response.iter_bytes(CHUNK):
                    out.write(chunk)
                    if progress is not None:
                        progress(response.num_bytes_downloaded, total)
        finally:
            response.close()
        return dest

    def _stream(self, request: httpx.Request) -> httpx.Response:
        try:
            response = self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise RegistryUnreachable(f"cannot reach {request.url.host}: {exc}") from exc
        if response.status_code >= 400:
            response.read()
        _raise_for_problem(response)
        return response


def _raise_for_problem(response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise RegistryApiError(response.status_code, _problem(response))


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return body
    return {"title": response.reason_phrase or "Request failed", "status": response.status_code}
