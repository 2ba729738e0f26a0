"""Perceptual fingerprints: ISCC Content-Code units (ISO 24138) of images, audio and video.

Every fingerprint is an ISCC similarity digest (64 bits; 256 for audio), compared by Hamming
distance, and its soft-binding algorithm is ``io.iscc.v0`` (C2PA soft-binding algorithm
list, entry 3):

- **image**: the ISCC Image-Code of the picture, normalised as ``iscc-sdk`` does (EXIF
  orientation, transparency on white, uniform border trimmed, grey, 32x32 bicubic), plus the
  code of centred crops that keep 93%, 86% and 79% of each side, of crops anchored at each
  corner that keep 94% and 88%, and, for a picture that is not square, of its centred square:
  platforms crop, and a global hash of a crop is far from the hash of the whole (measured:
  ``benchmarks/fingerprint_quality.py``). Each is a block with a
  ``region`` scope.
- **audio**: the 256-bit ISCC Audio-Code of the Chromaprint features of the whole track
  (decoded with PyAV, fingerprinted by Debian's libchromaprint through ``pyacoustid``), as
  ``fpcalc -raw -signed -length 0`` gives them to ``iscc-sdk``; plus, for the index only,
  the codes of the sound shifted by +-41 and +-83 ms (encoder delays).
- **video**: the ISCC Image-Code of one frame per second (one per ``duration/120`` seconds in
  longer videos), each a block with a ``timespan`` scope, and the audio code of the
  soundtrack. (The ISCC Video-Code proper needs MPEG-7 frame signatures from FFmpeg's
  ``signature`` filter, which only GPL builds of FFmpeg have; PyAV's wheels do not.)

What gets no fingerprint, and why (an empty list, never an error):

- audio shorter than about 6 s: Chromaprint emits its first features after ~3 s of sound
  and then about 8 a second; a code of fewer than ``MIN_AUDIO_FEATURES`` features is not
  stable under re-encoding, and one of silence would match any other silent file;
- a picture or video frame without contrast (flat colour, black frames): every flat picture
  has the same code.

Pure functions of the file's content: no database, no network, nothing written.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import iscc_core as ic
from PIL import Image, ImageChops, ImageOps, UnidentifiedImageError

from registry.provenance.errors import FingerprinterUnavailable, UndecodableMedia

if TYPE_CHECKING:
    import av.container

ALG = "io.iscc.v0"  # the C2PA soft-binding algorithm list's name for ISCC (ISO 24138)
# The registry's invisible watermark (``watermark``): not on the list, so a name of our own.
WATERMARK_ALG = "org.consentregistry.watermark.1"
BITS = 64  # ISCC's default unit length: image codes, the watermark key, the index's prefix
# Audio codes are 256 bits: the 64-bit code (a simhash of all Chromaprint features, then of
# the first quarter) is its prefix, followed by simhashes of the other quarters and of the
# sorted thirds. At 64 bits, unrelated speech came within 7 bits of each other while an AAC
# copy was 5 bits from its original; at 256 bits, 37 against 18 (benchmark).
AUDIO_BITS = 256
Unit = Literal["image", "audio", "video-frame", "watermark"]
Kind = Literal["image", "audio", "video"]

# Fractions of each side removed (half on either side) by the crop variants of an image.
IMAGE_CROPS = (0.07, 0.14, 0.21)
# Fractions of each side removed at one end by the corner crop variants (anchored at each of
# the four corners): a copy cut by 10% from its left and top was 0/40 by the centred crops
# alone, 100% with these (benchmarks/fingerprint_quality.py).
CORNER_CROPS = (0.06, 0.12)
_CORNERS = {"top left": (1, 1), "top right": (0, 1), "bottom left": (1, 0), "bottom right": (0, 0)}
SQUARE_CROP_ASPECT = 1.1  # a picture at least this much wider than high (or v.v.)
WORKING_SIDE = 1024  # crop variants are computed on a copy at most this large
MIN_CONTRAST = 8  # grey levels between the darkest and lightest normalised pixel

CHROMAPRINT_RATE = 11_025  # Chromaprint resamples to this itself; PyAV does it for it here
CHROMAPRINT_HOP = 1365  # samples between its frames (4096-sample frames, 2/3 overlapping)
# About 6 s of sound. With fewer features the quarters and thirds of the 256-bit code hash
# two or three features each: a 4-s soundtrack re-encoded came 34 bits from its original.
MIN_AUDIO_FEATURES = 24
MIN_DISTINCT_FEATURES = 4  # silence gives one feature over and over
MAX_AUDIO_SECONDS = 3 * 3600  # decoding stops there (bounds the work on a huge file)
SHIFTS = (-910, -455, 455, 910)  # audio variants, in samples at 11025 Hz (about 41 / 83 ms)
TRIMS = (0.05, 0.10)  # audio variants: this share of the duration cut at either end

FRAME_STEP_SECONDS = 1.0
MAX_FRAMES = 120  # a longer video is sampled every duration/MAX_FRAMES seconds
MAX_VIDEO_SECONDS = 3 * 3600


@dataclass(frozen=True)
class Region:
    """A rectangle in percent of the picture's width and height, from its top left corner."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Scope:
    """Which part of the content a fingerprint covers: all of it when both are empty."""

    region: Region | None = None
    start_ms: int | None = None
    end_ms: int | None = None


@dataclass(frozen=True)
class Fingerprint:
    """One value compared by Hamming distance: an ISCC digest (``alg`` ALG; ``unit`` image
    or video-frame, 64 bits; audio, 256 bits) or a watermark key (WATERMARK_ALG,
    ``watermark``, 64 bits).
    """

    alg: str
    unit: Unit
    value: bytes
    scope: Scope = field(default_factory=Scope)
    # None: the content as it is. Otherwise a rendition computed to help matching ("crop
    # 14%", "shift +41 ms"): indexed, but never looked up as a probe (``index.lookup``).
    variant: str | None = None

    @property
    def iscc(self) -> str:
        """The canonical ISCC unit, e.g. ``ISCC:EEA...`` (header + digest, base32)."""
        if self.alg != ALG:
            raise ValueError(f"a {self.alg} value is not an ISCC unit")
        return "ISCC:" + ic.encode_component(
            mtype=ic.MT.CONTENT,
            stype=_SUBTYPE[self.unit],
            version=ic.VS.V0,
            bit_length=len(self.value) * 8,
            digest=self.value,
        )

    @property
    def iscc_bytes(self) -> bytes:
        """The ISCC unit in binary form (2-byte header + digest): the soft-binding value."""
        return ic.decode_base32(self.iscc.removeprefix("ISCC:"))

    @property
    def as_int(self) -> int:
        return int.from_bytes(self.value, "big")

    @property
    def binding_value(self) -> bytes:
        """The soft-binding block value: the binary ISCC unit, or the watermark key."""
        return self.iscc_bytes if self.alg == ALG else self.value

    def to_b64(self) -> str:
        return base64.b64encode(self.binding_value).decode("ascii")


_SUBTYPE = {"image": ic.ST_CC.IMAGE, "audio": ic.ST_CC.AUDIO, "video-frame": ic.ST_CC.IMAGE}


def watermark_fingerprint(key: bytes) -> Fingerprint:
    """The watermark key of an asset, to index beside its fingerprints (``index.add``)."""
    if len(key) * 8 != BITS:
        raise ValueError(f"a watermark key is {BITS // 8} bytes")
    return Fingerprint(WATERMARK_ALG, "watermark", key)


def distance(a: bytes | Fingerprint, b: bytes | Fingerprint) -> int:
    """Hamming distance between two digests of the same length."""
    x = a.value if isinstance(a, Fingerprint) else a
    y = b.value if isinstance(b, Fingerprint) else b
    if len(x) != len(y):
        raise ValueError("digests of different lengths")
    return (int.from_bytes(x, "big") ^ int.from_bytes(y, "big")).bit_count()


def fingerprint(path: Path, kind: Kind) -> list[Fingerprint]:
    """The fingerprints of the file at ``path`` whose kind (``MediaFormat.kind``) is known."""
    if kind == "image":
        return image_fingerprints(path)
    if kind == "audio":
        return audio_fingerprints(path)
    if kind == "video":
        return video_fingerprints(path)
    raise ValueError(f"no fingerprints for media of kind {kind!r}")


# --- images ---------------------------------------------------------------------------------


def image_fingerprints(path: Path) -> list[Fingerprint]:
    """The image code of the whole picture and of its centred crops (see the module doc)."""
    try:
        with Image.open(path) as opened:
            opened.load()
            picture = _prepare(opened)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise UndecodableMedia(f"The image cannot be decoded: {_reason(exc)}") from exc
    return picture_fingerprints(picture)


def picture_fingerprints(picture: Image.Image) -> list[Fingerprint]:
    """As ``image_fingerprints`` for a decoded picture (EXIF orientation already applied)."""
    picture = _fill_transparency(picture)
    result: list[Fingerprint] = []
    whole = image_digest(picture)
    if whole is None:
        return result
    result.append(Fingerprint(ALG, "image", whole))
    working = picture.copy()
    working.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.BICUBIC)
    width, height = working.size
    for removed in IMAGE_CROPS:
        box = _centred_box(width, height, keep_w=1 - removed, keep_h=1 - removed)
        region = Region(
            *(round(v * 100, 2) for v in (removed / 2, removed / 2, 1 - removed, 1 - removed))
        )
        _append(result, working.crop(box), Scope(region=region), f"crop {removed:.0%}")
    for removed in CORNER_CROPS:
        kept_w, kept_h = round(width * (1 - removed)), round(height * (1 - removed))
        for corner, (from_left, from_top) in _CORNERS.items():
            left = width - kept_w if from_left else 0
            top = height - kept_h if from_top else 0
            region = Region(
                round(removed * 100 * from_left, 2), round(removed * 100 * from_top, 2),
                round((1 - removed) * 100, 2), round((1 - removed) * 100, 2),
            )  # fmt: skip
            box = (left, top, left + kept_w, top + kept_h)
            _append(result, working.crop(box), Scope(region=region), f"{corner} {removed:.0%}")
    aspect = max(width, height) / min(width, height)
    if aspect >= SQUARE_CROP_ASPECT:
        side = min(width, height)
        share_w, share_h = side / width, side / height
        box = _centred_box(width, height, keep_w=share_w, keep_h=share_h)
        region = Region(
            round((1 - share_w) * 50, 2), round((1 - share_h) * 50, 2),
            round(share_w * 100, 2), round(share_h * 100, 2),
        )  # fmt: skip
        _append(result, working.crop(box), Scope(region=region), "square crop")
    return result


def image_digest(picture: Image.Image) -> bytes | None:
    """The 64-bit ISCC Image-Code digest of a picture, or None for one without contrast."""
    pixels = _normalize(picture)
    if max(pixels) - min(pixels) < MIN_CONTRAST:
        return None
    return bytes(ic.soft_hash_image_v0(pixels, bits=BITS))


def _append(result: list[Fingerprint], crop: Image.Image, scope: Scope, variant: str) -> None:
    digest = image_digest(crop)
    if digest is not None:
        result.append(Fingerprint(ALG, "image", digest, scope, variant))


def _centred_box(
    width: int, height: int, *, keep_w: float, keep_h: float
) -> tuple[int, int, int, int]:
    new_w, new_h = max(1, round(width * keep_w)), max(1, round(height * keep_h))
    left, top = (width - new_w) // 2, (height - new_h) // 2
    return (left, top, left + new_w, top + new_h)


def _prepare(picture: Image.Image) -> Image.Image:
    """EXIF orientation applied, in a mode the rest can convert (16-bit grey, palette, ...)."""
    upright = ImageOps.exif_transpose(picture)
    return upright if upright.mode in ("RGB", "RGBA", "L", "LA") else upright.convert("RGBA")


def _fill_transparency(picture: Image.Image) -> Image.Image:
    """iscc-sdk's ``image_fill_transparency``: alpha composited onto white, as RGBA."""
    rgba = picture.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255))
    return Image.alpha_composite(background, rgba)


def _normalize(picture: Image.Image) -> list[int]:
    """iscc-sdk's ``image_normalize`` after transposition and filling: trim, grey, 32x32."""
    background = Image.new(picture.mode, picture.size, picture.getpixel((0, 0)))
    diff = ImageChops.difference(picture, background)
    bbox = ImageChops.add(diff, diff).getbbox()
    if bbox and bbox != (0, 0, *picture.size):
        picture = picture.crop(bbox)
    small = picture.convert("L").resize((32, 32), Image.Resampling.BICUBIC)
    return list(small.tobytes())


# --- audio ----------------------------------------------------------------------------------


def audio_fingerprints(path: Path) -> list[Fingerprint]:
    """The ISCC Audio-Code of the first audio stream, or [] when it is too short or silent.

    Besides the code of the sound as it is, variants for the index only:

    - the codes of the sound shifted by ``SHIFTS``: an encoder's priming delay (AAC adds 1024
      samples, 23 ms) moves every Chromaprint frame, and a probe is then closer to one of the
      shifted codes;
    - the codes of the sound trimmed by ``TRIMS`` of its duration at its end, and at its
      start (shifted too: a cut falls anywhere in a Chromaprint frame): the code hashes the
      whole track and its quarters, so a copy cut by 10% was 31-46 bits from the original (of
      256; threshold 22). The trim is counted in Chromaprint frames of the sound's duration
      (``CHROMAPRINT_HOP``), not in features: the first ~20 frames give no feature, so 10% of
      a 12-s clip is 10 frames, 13% of its 75 features. Counted so, a copy cut by 10% at its
      start was a median of 3 bits from the nearest variant instead of 15. They are subsets
      of the features already computed: no more decoding.
    """
    by_shift, samples = chromaprint_features(path, shifts=(0, *SHIFTS))
    main = audio_digest(by_shift[0])
    if main is None:
        return []
    result = [Fingerprint(ALG, "audio", main)]
    for shift in (0, *SHIFTS):
        features = by_shift[shift]
        millis = round(shift * 1000 / CHROMAPRINT_RATE)
        named = f" shift {millis:+d} ms" if shift else ""
        renditions = [] if not shift else [(f"shift {millis:+d} ms", features)]
        for trim in TRIMS:
            cut = round(trim * samples / CHROMAPRINT_HOP)
            renditions.append((f"trim start {trim:.0%}{named}", features[cut:]))
            if not shift:
                renditions.append((f"trim end {trim:.0%}", features[: len(features) - cut]))
        for variant, subset in renditions:
            digest = audio_digest(subset)
            if digest is not None:
                result.append(Fingerprint(ALG, "audio", digest, variant=variant))
    return result


def audio_digest(features: list[int]) -> bytes | None:
    """The 256-bit ISCC Audio-Code digest of Chromaprint features (signed 32-bit integers)."""
    if len(features) < MIN_AUDIO_FEATURES or len(set(features)) < MIN_DISTINCT_FEATURES:
        return None
    return bytes(ic.soft_hash_audio_v0(features, bits=AUDIO_BITS))


def chromaprint_features(
    path: Path, *, shifts: Sequence[int] = (0,), max_seconds: float = MAX_AUDIO_SECONDS
) -> tuple[dict[int, list[int]], int]:
    """The raw Chromaprint fingerprint of the first audio stream for each shift (samples at
    11025 Hz: positive delays the sound by that much silence, negative drops its start),
    and the samples of sound read; empty lists when there is no audio stream or under a
    second of it."""
    chromaprint = chromaprint_module()
    import av

    printers = {shift: chromaprint.Fingerprinter() for shift in shifts}
    for shift, printer in printers.items():
        printer.start(CHROMAPRINT_RATE, 1)
        if shift > 0:
            printer.feed(bytes(2 * shift))
    budget = int(max_seconds * CHROMAPRINT_RATE)
    fed = 0
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return {shift: [] for shift in shifts}, 0
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="s16", layout="mono", rate=CHROMAPRINT_RATE)
            for frame in _decoded(container, stream):
                for chunk in resampler.resample(frame):
                    fed = _feed(printers, chunk, fed, budget)
                if fed >= budget:
                    break
            else:
                for chunk in resampler.resample(None):
                    fed = _feed(printers, chunk, fed, budget)
        if fed < CHROMAPRINT_RATE:  # under a second of sound: nothing to fingerprint
            return {shift: [] for shift in shifts}, fed
        result = {}
        for shift, printer in printers.items():
            raw, _algorithm = chromaprint.decode_fingerprint(printer.finish())
            # Chromaprint hands out unsigned words; ISCC (like fpcalc -signed) takes signed.
            result[shift] = [v - (1 << 32) if v >= 1 << 31 else v for v in raw]
    except chromaprint.FingerprintError as exc:
        raise UndecodableMedia("Chromaprint could not fingerprint the sound.") from exc
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise UndecodableMedia(f"The audio cannot be decoded: {_reason(exc)}") from exc
    return result, fed


def _feed(printers: dict[int, Any], chunk: Any, fed: int, budget: int) -> int:
    """Give ``chunk`` (mono s16) to every printer; a printer with a negative shift skips the
    first -shift samples of the sound. Returns the samples fed so far."""
    samples = min(chunk.samples, max(budget - fed, 0))
    if not samples:
        return fed
    data = bytes(chunk.planes[0])[: samples * 2]
    for shift, printer in printers.items():
        skip = min(max(-shift - fed, 0), samples)
        if skip < samples:
            printer.feed(data[2 * skip :])
    return fed + samples


def chromaprint_module() -> Any:
    try:
        import chromaprint
    except ImportError as exc:  # pyacoustid raises ImportError when libchromaprint is missing
        raise FingerprinterUnavailable(
            "libchromaprint is not installed (Debian: libchromaprint1; make media-tools)."
        ) from exc
    return chromaprint


def _decoded(container: av.container.InputContainer, stream: Any) -> Iterator[Any]:
    """Frames of ``stream``; a damaged packet is skipped as a player would skip it."""
    import av

    for packet in container.demux(stream):
        try:
            yield from packet.decode()
        except av.InvalidDataError:
            continue


# --- video ----------------------------------------------------------------------------------


def video_fingerprints(path: Path) -> list[Fingerprint]:
    """Frame codes every ``FRAME_STEP_SECONDS`` (timespan scopes) and the soundtrack's code."""
    frames = frame_fingerprints(path)
    return frames + audio_fingerprints(path)


def frame_fingerprints(path: Path) -> list[Fingerprint]:
    """The image code of the first frame at or after each step of the video's time grid."""
    import av

    result: list[Fingerprint] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise UndecodableMedia("The video has no picture stream.")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            duration = _duration_seconds(container, stream)
            step = max(FRAME_STEP_SECONDS, duration / MAX_FRAMES) if duration else 1.0
            step_ms = round(step * 1000)
            first: float | None = None
            next_at = 0.0
            for frame in _decoded(container, stream):
                if frame.time is None:
                    continue
                if first is None:
                    first = float(frame.time)
                at = float(frame.time) - first
                if at > MAX_VIDEO_SECONDS:
                    break
                if at + 1e-6 < next_at:
                    continue
                digest = image_digest(_fill_transparency(frame.to_image()))
                slot = math.floor(at / step + 1e-6)
                if digest is not None:
                    start = slot * step_ms
                    scope = Scope(start_ms=start, end_ms=start + step_ms)
                    result.append(Fingerprint(ALG, "video-frame", digest, scope))
                next_at = (slot + 1) * step
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise UndecodableMedia(f"The video cannot be decoded: {_reason(exc)}") from exc
    return result


def _duration_seconds(container: av.container.InputContainer, stream: Any) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def _reason(exc: BaseException) -> str:
    """A short, path-free reason for a vendor error (file names stay out of problems)."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text).split(":")[-1].strip()[:200] or type(exc).__name__
