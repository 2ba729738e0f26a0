"""Durable provenance (issue #11): recognise registered media after its label is stripped.

Not wired into signing or verification yet. The parts, each usable on its own:

- ``fingerprints``: ``fingerprint(path, kind)`` gives ISCC Content-Code units (ISO 24138,
  soft-binding algorithm ``io.iscc.v0``): the image code of a picture and of a few centred
  crops of it; the audio code of a track (Chromaprint features); the image code of a video
  frame every second (or so) and the audio code of its soundtrack.
- ``watermark``: ``embed`` / ``extract`` a 64-bit lookup key in an image's pixels
  (blind-watermark: DWT-DCT-SVD), ``watermark_key(asset_id, secret)``.
- ``softbinding``: the ``c2pa.soft-binding`` assertions (and the ``c2pa.watermarked`` action)
  for a signing's fingerprints and watermark.
- ``index``: ``add`` / ``lookup`` / ``remove`` over the ``provenance_codes`` table
  (multi-index hashing in plain SQL, SQLite and PostgreSQL); ``models`` holds the table.
- ``errors``: every vendor failure (Pillow, PyAV, Chromaprint, OpenCV) becomes one of these.

Imports from ``registry``: ``errors``, ``db`` (column types only) and ``intake.errors``;
``index``/``models`` also ``media.models`` (the foreign key target). No Flask, no views.
"""
