"""An invisible watermark carrying a 64-bit lookup key in an image's pixels.

The embedding is blind-watermark's (``WaterMarkCore``: Haar DWT, 4x4 block DCT, quantised
singular values, every bit repeated over the blocks of all three YUV channels). Two things
are added around it, both measured in ``benchmarks/fingerprint_quality.py``:

- **Scale**: the mark is embedded in a copy scaled to ``CANONICAL_SIDE`` pixels on its
  shorter side, and the difference is scaled back up and added to the full picture.
  Extraction scales whatever it receives to the same size first, so a resized copy (the
  half-size JPEG of the issue) reads like the original. blind-watermark alone reads a mark
  only at the size it was embedded at.
- **Check bytes**: the payload is the key followed by a 16-bit check (BLAKE2b of the key), so
  ``extract`` tells a mark from noise. A few readings are tried (all channels or luma only,
  for greyscale copies; brightness x0.9/x1.1); the first whose check holds wins. About one
  unmarked picture in 10^4 passes a check by chance: a key read must be confirmed by the
  index (``index.lookup``), where a random key matches nothing in practice.

``embed`` reads the mark back from the file it wrote and raises ``WatermarkNotEmbeddable``
when it cannot (flat or saturated pictures); pictures smaller than ``MIN_SIDE`` are refused
before any work. It runs before signing: the manifest's hash then covers the marked pixels.

Keys: ``watermark_keys.watermark_key(asset_id, secret)`` is an HMAC of the asset id under a
server secret, so nobody who reads an asset id from a manifest can forge its mark into
another picture.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from registry.intake.errors import UnsupportedMedia
from registry.provenance.errors import UndecodableMedia, WatermarkNotEmbeddable
from registry.provenance.watermark_keys import KEY_BYTES

CHECK_BYTES = 2
PAYLOAD_BITS = (KEY_BYTES + CHECK_BYTES) * 8
CANONICAL_SIDE = 256  # the shorter side of the copy the mark lives in
MIN_SIDE = 256  # a smaller picture would lose the mark when the copy is scaled back down
# blind-watermark's seeds for its block and bit permutations. They are public (this file is):
# the secret is in the key, not in where the bits are.
_PASSWORD = 0x2E0B_11C4
_STEPS = (24, 12)
_GAINS = (1.0, 0.9, 1.1)
_CHANNELS = ((0, 1, 2), (0,))
_JPEG_QUALITY = 95
_WEBP_QUALITY = 95

WATERMARK_NAME = (
    "blind-watermark 0.4.4 DWT-DCT-SVD (steps 24/12) at 256 px, 64-bit key + 16-bit check"
)


@contextlib.contextmanager
def _no_start_method_change() -> Iterator[None]:
    """blind_watermark.pool calls ``multiprocessing.set_start_method('fork')`` on import,
    which raises when the process already chose a start method (and changes it otherwise).
    The library is used in 'common' mode (no pool), so the call is skipped."""
    original = multiprocessing.set_start_method
    setattr(multiprocessing, "set_start_method", lambda *args, **kwargs: None)  # noqa: B010
    try:
        yield
    finally:
        multiprocessing.set_start_method = original


with _no_start_method_change():
    import cv2
    from blind_watermark.bwm_core import WaterMarkCore
    from blind_watermark.version import bw_notes

bw_notes.close()  # the library prints a banner on its first use otherwise


def embed(path_in: Path, path_out: Path, key: bytes) -> None:
    """Write a copy of the JPEG, PNG or WEBP at ``path_in`` carrying ``key`` to ``path_out``.

    Same format and size; EXIF orientation is applied to the pixels (the tag dropped), ICC
    profile, EXIF and resolution kept. Palette and 16-bit pictures come out as 8-bit RGB(A);
    JPEG and lossy WEBP are written at quality 95, PNG and lossless WEBP losslessly.
    """
    _check_key(key)
    try:
        with Image.open(path_in) as opened:
            opened.load()
            fmt = opened.format or ""
            info: dict[str, Any] = {str(k): v for k, v in opened.info.items()}
            upright = ImageOps.exif_transpose(opened) or opened
            exif = upright.getexif()
            marked = embed_picture(upright, key)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise UndecodableMedia("The image cannot be decoded.") from exc
    _save(marked, path_out, fmt=fmt, info=info, exif=exif, lossless=_webp_lossless(path_in))
    try:
        read = extract(path_out)
    except UndecodableMedia:
        read = None
    if read != key:
        path_out.unlink(missing_ok=True)
        raise WatermarkNotEmbeddable(
            "The watermark did not read back from the marked image.", reason="not_readable"
        )


def extract(path: Path) -> bytes | None:
    """The key marked in the image at ``path``, or None when no reading passes its check."""
    try:
        with Image.open(path) as opened:
            opened.load()
            upright = ImageOps.exif_transpose(opened) or opened
            return extract_picture(upright)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise UndecodableMedia("The image cannot be decoded.") from exc


def embed_picture(picture: Image.Image, key: bytes) -> Image.Image:
    """A marked copy of ``picture`` (same size; mode kept for RGB, RGBA, L and LA)."""
    _check_key(key)
    width, height = picture.size
    if min(width, height) < MIN_SIDE:
        raise WatermarkNotEmbeddable(
            f"The image must be at least {MIN_SIDE} pixels on its shorter side.",
            reason="too_small",
        )
    alpha = picture.getchannel("A") if picture.mode in ("RGBA", "LA", "PA") else None
    rgb = np.asarray(picture.convert("RGB"), dtype=np.float32)
    canonical = _to_canonical(rgb)
    core = _core()
    bits = _bits(key + _check(key))
    np.random.RandomState(_PASSWORD).shuffle(bits)
    core.read_img_arr(img=np.ascontiguousarray(canonical[:, :, ::-1]))  # the library is BGR
    core.read_wm(bits)
    marked = np.asarray(core.embed(), dtype=np.float32)[:, :, ::-1]
    residual = cv2.resize(marked - canonical, (width, height), interpolation=cv2.INTER_LINEAR)
    pixels = np.clip(rgb + residual, 0, 255).round().astype(np.uint8)
    out = Image.fromarray(pixels, "RGB")
    if picture.mode in ("L", "LA"):
        out = out.convert("L")
    if alpha is not None:
        out = out.convert("LA" if out.mode == "L" else "RGB")
        out.putalpha(alpha)
    return out


def extract_picture(picture: Image.Image) -> bytes | None:
    """The key marked in ``picture`` (any size: it is scaled like the marked copy was)."""
    rgb = np.asarray(picture.convert("RGB"), dtype=np.float32)
    if min(rgb.shape[:2]) < 16:
        return None
    canonical = _to_canonical(rgb)
    order = np.arange(PAYLOAD_BITS)
    np.random.RandomState(_PASSWORD).shuffle(order)
    for gain in _GAINS:
        core = _core()
        core.wm_size = PAYLOAD_BITS
        adjusted = np.clip(canonical * gain, 0, 255) if gain != 1.0 else canonical
        votes = core.extract_raw(img=np.ascontiguousarray(adjusted[:, :, ::-1]))
        if votes.shape[1] < PAYLOAD_BITS:
            return None
        for channels in _CHANNELS:
            chosen = votes[list(channels)]
            # Every bit is repeated every PAYLOAD_BITS blocks: average the repetitions.
            shuffled = np.array([chosen[:, i::PAYLOAD_BITS].mean() for i in range(PAYLOAD_BITS)])
            averaged = np.empty_like(shuffled)
            averaged[order] = shuffled
            payload = np.packbits(averaged > 0.5).tobytes()
            key, check = payload[:KEY_BYTES], payload[KEY_BYTES:]
            if hmac.compare_digest(check, _check(key)):
                return key
    return None


def _core() -> Any:
    core = WaterMarkCore(password_img=_PASSWORD, mode="common")
    # Quantisation steps of the first two singular values: the library's 36/20 give a PSNR
    # of ~38 dB; 24/12 give ~41.5 dB and survived the same transforms in the benchmark.
    core.d1, core.d2 = _STEPS
    return core


def _to_canonical(rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    scale = CANONICAL_SIDE / min(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(rgb, size, interpolation=interpolation), dtype=np.float32)


def _bits(payload: bytes) -> np.ndarray:
    return np.unpackbits(np.frombuffer(payload, dtype=np.uint8)).astype(bool)


def _check(key: bytes) -> bytes:
    return hashlib.blake2b(key, digest_size=CHECK_BYTES, person=b"registry-wm").digest()


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise ValueError(f"a watermark key is {KEY_BYTES} bytes")


def _webp_lossless(path: Path) -> bool:
    """Whether a WEBP file's picture is VP8L (lossless); False for any other file."""
    with path.open("rb") as stream:
        head = stream.read(4096)
    if not (head.startswith(b"RIFF") and head[8:12] == b"WEBP"):
        return False
    offset = 12
    while offset + 8 <= len(head):
        fourcc = head[offset : offset + 4]
        if fourcc in (b"VP8L", b"VP8 "):
            return fourcc == b"VP8L"
        size = int.from_bytes(head[offset + 4 : offset + 8], "little")
        offset += 8 + size + (size & 1)
    return False


def _save(
    picture: Image.Image,
    path: Path,
    *,
    fmt: str,
    info: dict[str, Any],
    exif: Image.Exif,
    lossless: bool,
) -> None:
    options: dict[str, Any] = {}
    if info.get("icc_profile"):
        options["icc_profile"] = info["icc_profile"]
    if len(exif):
        options["exif"] = exif.tobytes()
    if info.get("dpi"):
        options["dpi"] = info["dpi"]
    if fmt == "JPEG":
        if picture.mode not in ("RGB", "L"):
            picture = picture.convert("RGB")
        options.update(quality=_JPEG_QUALITY)
    elif fmt == "WEBP":
        options.update(lossless=True) if lossless else options.update(quality=_WEBP_QUALITY)
    elif fmt != "PNG":
        raise UnsupportedMedia(
            "Watermarks are embedded in JPEG, PNG and WEBP images only.",
            supported=("image/jpeg", "image/png", "image/webp"),
        )
    buffer = io.BytesIO()
    try:
        picture.save(buffer, fmt, **options)
    except (OSError, ValueError) as exc:
        raise UndecodableMedia("The marked image could not be encoded.") from exc
    path.write_bytes(buffer.getvalue())
