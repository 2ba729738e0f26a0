"""Receiving ``multipart/form-data`` uploads: the file part is streamed to disk and hashed."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any, cast

from flask import request
from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.formparser import MultiPartParser
from werkzeug.http import parse_options_header
from werkzeug.wsgi import get_content_length, get_input_stream

from registry.errors import (
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    validation_problem,
)
from registry.hygiene import refuse_control_characters
from registry.intake.errors import MissingUploadPart
from registry.intake.spool import CHUNK, HashingWriter, SpooledFile

MAX_METADATA_BYTES = 256 * 1024
MAX_FORM_PARTS = 16


def receive_upload(
    workdir: Path, *, limit: int, metadata_model: type[BaseModel] | None
) -> tuple[SpooledFile, Any]:
    """The uploaded ``file`` (on disk, hashed) and the validated ``metadata`` part."""
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType(
            "send the media as multipart/form-data with a file part", accepted="multipart/form-data"
        )
    writers: list[HashingWriter] = []

    def stream_factory(
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        writer = HashingWriter(workdir / f"part-{len(writers)}", limit=limit)
        writers.append(writer)
        return writer  # type: ignore[return-value]

    try:
        form, files = _parse_multipart(stream_factory, limit=limit)
        return _spooled_parts(form, files, metadata_model)
    finally:
        for writer in writers:  # parts not kept, and every part when the upload failed
            writer.close()


def _spooled_parts(
    form: MultiDict[str, str],
    files: MultiDict[str, FileStorage],
    metadata_model: type[BaseModel] | None,
) -> tuple[SpooledFile, Any]:
    upload = files.get("file")
    if upload is None:
        raise MissingUploadPart("the upload needs a file part named 'file'")
    spooled = cast(HashingWriter, upload.stream).finish()  # the stream_factory's writer
    if metadata_model is None:
        return spooled, None
    raw = form.get("metadata")
    if raw is None and "metadata" in files:  # curl -F metadata=@meta.json sends a file part
        part = cast(HashingWriter, files["metadata"].stream).finish()
        if part.size > MAX_METADATA_BYTES:
            raise PayloadTooLarge(f"the metadata part may be at most {MAX_METADATA_BYTES} bytes")
        raw = part.path.read_text(errors="replace")
    if raw is None:
        raise MissingUploadPart("the upload needs a JSON part named 'metadata'")
    return spooled, parse_metadata(raw, metadata_model)


def _parse_multipart(
    stream_factory: Any, *, limit: int
) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
    """The form fields and file parts of the request body, read in ``CHUNK``-sized pieces.

    What werkzeug's ``FormDataParser`` does, except for the read size: its 64 KiB reads cost
    a copy of gunicorn's 1 MiB read-ahead buffer each, a third of the receive time of a
    100 MB upload. A body that is not valid multipart has no parts, as with FormDataParser.
    """
    environ = request.environ
    most = limit + MAX_METADATA_BYTES
    length = get_content_length(environ)
    if length is not None and length > most:
        raise PayloadTooLarge(f"media files may be at most {limit} bytes")
    stream: Any
    if environ.get("wsgi.input_terminated"):
        # The server ends the input at the end of the body (gunicorn does). werkzeug's
        # LimitedStream would copy every chunk twice more (readinto, then bytes).
        stream = _BoundedInput(environ["wsgi.input"], most=most)
    else:
        stream = get_input_stream(environ, max_content_length=most)
    _, options = parse_options_header(environ.get("CONTENT_TYPE"))
    boundary = options.get("boundary", "").encode("ascii")
    parser = MultiPartParser(
        stream_factory=stream_factory,
        # werkzeug applies this bound to every chunk it buffers, file data included, so it
        # must exceed the read size; the metadata limit is checked below instead.
        max_form_memory_size=2 * CHUNK,
        buffer_size=CHUNK,
        max_form_parts=MAX_FORM_PARTS,
    )
    try:
        if not boundary:
            return MultiDict(), MultiDict()
        form, files = parser.parse(stream, boundary, length)
    except RequestEntityTooLarge as exc:  # werkzeug counts parts as it reads them
        raise PayloadTooLarge(f"a multipart body may have at most {MAX_FORM_PARTS} parts") from exc
    except ValueError:
        return MultiDict(), MultiDict()
    if any(len(value.encode()) > MAX_METADATA_BYTES for value in form.values()):
        raise PayloadTooLarge(f"form fields may be at most {MAX_METADATA_BYTES} bytes")
    return form, files


class _BoundedInput:
    """The request body as the server gives it, refusing to read past ``most`` bytes."""

    def __init__(self, stream: IO[bytes], *, most: int) -> None:
        self._stream = stream
        self._left = most

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._stream.read(size)
        except (OSError, ValueError) as exc:  # as werkzeug's LimitedStream reports it: a 400
            raise ClientDisconnected() from exc
        self._left -= len(data)
        if self._left < 0:
            raise PayloadTooLarge("the request body is too large")
        return data


def parse_metadata(raw: str, model: type[BaseModel]) -> BaseModel:
    """Validate the JSON ``metadata`` part (parsed once, by pydantic)."""
    try:
        metadata = model.model_validate_json(raw)
    except ValidationError as exc:
        if exc.errors()[0]["type"] == "json_invalid":
            raise ValidationFailed("the metadata part is not valid JSON") from exc
        raise validation_problem(exc, "metadata") from exc
    refuse_control_characters(metadata.model_dump(), "metadata")
    return metadata
