"""Receiving ``multipart/form-data`` uploads: the file part is streamed to disk and hashed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from flask import request
from pydantic import BaseModel, ValidationError
from werkzeug.formparser import FormDataParser

from registry.errors import UnsupportedMediaType, ValidationFailed
from registry.media.errors import MissingUploadPart
from registry.media.spool import HashingWriter, SpooledFile

MAX_METADATA_BYTES = 256 * 1024


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

    parser = FormDataParser(
        stream_factory=stream_factory,  # type: ignore[arg-type]
        max_form_memory_size=MAX_METADATA_BYTES,
        max_content_length=limit + MAX_METADATA_BYTES,
        max_form_parts=16,
    )
    _, form, files = parser.parse_from_environ(request.environ)
    upload = files.get("file")
    if upload is None:
        raise MissingUploadPart("the upload needs a file part named 'file'")
    spooled = next(w for w in writers if w is upload.stream).finish()
    if metadata_model is None:
        return spooled, None
    raw = form.get("metadata")
    if raw is None and "metadata" in files:  # curl -F metadata=@meta.json sends a file part
        raw = Path(next(w for w in writers if w is files["metadata"].stream).finish().path)
        raw = raw.read_text(errors="replace")
    if raw is None:
        raise MissingUploadPart("the upload needs a JSON part named 'metadata'")
    return spooled, parse_metadata(raw, metadata_model)


def parse_metadata(raw: str, model: type[BaseModel]) -> BaseModel:
    """Validate the JSON ``metadata`` part."""
    try:
        json.loads(raw)
    except ValueError as exc:
        raise ValidationFailed("the metadata part is not valid JSON") from exc
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = [
            {
                "loc": ".".join(str(p) for p in ("metadata", *e["loc"])),
                "message": e["msg"],
                "type": e["type"],
            }
            for e in exc.errors(include_url=False, include_input=False)
        ]
        raise ValidationFailed(f"{errors[0]['loc']}: {errors[0]['message']}", errors=errors) from exc
