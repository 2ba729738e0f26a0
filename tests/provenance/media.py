"""Media with structure for the provenance tests and benchmarks, and the transforms platforms
apply to it. Everything is generated (Pillow, NumPy, PyAV's bundled FFmpeg): no fixtures.

- ``scene``: a picture of random shapes over a gradient with a little noise (not flat), the
  same for the same seed whatever ran before;
- ``synth_audio``: tones, chirps, chords and noise bursts of random lengths;
- ``make_video``: a panning background with moving discs, H.264 in MP4 or MOV, with or
  without a soundtrack;
- transforms: half size at JPEG quality 70, crops, WAV to 128 kbps MP3 (or other codecs),
  a video re-encoded at another bitrate or CRF (and size, or cropped);
- ``strip_metadata``: the same content without its metadata (a JPEG's or PNG's extra
  segments and chunks dropped byte for byte, a WAV or MP4 remuxed), as upload pipelines do.
"""

from __future__ import annotations

import io
import math
import random
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

AUDIO_RATE = 44_100


# --- images ---------------------------------------------------------------------------------


def scene(seed: int, size: tuple[int, int] = (768, 512)) -> Image.Image:
    """A deterministic RGB picture: gradient, 8-25 shapes, noise, slight blur."""
    rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
    width, height = size
    low = [rng.randrange(256) for _ in range(3)]
    high = [rng.randrange(256) for _ in range(3)]
    ramp = Image.linear_gradient("L").resize(size).rotate(rng.uniform(0, 360), fillcolor=128)
    bands = [
        ramp.point(lambda v, a=a, b=b: int(a + (b - a) * v / 255))
        for a, b in zip(low, high, strict=True)
    ]
    picture = Image.merge("RGB", bands)
    draw = ImageDraw.Draw(picture)
    for _ in range(rng.randint(8, 25)):
        x0, y0 = rng.randrange(-width // 4, width), rng.randrange(-height // 4, height)
        x1, y1 = x0 + rng.randrange(20, width // 2), y0 + rng.randrange(20, height // 2)
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = rng.choice("erlp")
        if shape == "e":
            draw.ellipse([x0, y0, x1, y1], fill=colour)
        elif shape == "r":
            draw.rectangle([x0, y0, x1, y1], fill=colour)
        elif shape == "l":
            draw.line([x0, y0, x1, y1], fill=colour, width=rng.randint(2, 15))
        else:
            points = [
                (rng.randrange(width), rng.randrange(height)) for _ in range(rng.randint(3, 6))
            ]
            draw.polygon(points, fill=colour)
    # Seeded noise: Pillow's effect_noise draws from C's rand(), whose state depends on
    # every earlier call in the process, so a picture changed with the order tests ran in.
    grain = np.random.default_rng(seed).normal(128, rng.uniform(10, 40), (height, width))
    noise = Image.fromarray(np.clip(grain, 0, 255).astype(np.uint8), "L").convert("RGB")
    picture = Image.blend(picture, noise, 0.12)
    return picture.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.5)))


def save(picture: Image.Image, path: Path, **options: object) -> Path:
    picture.save(path, **options)  # type: ignore[arg-type]
    return path


def reopen(picture: Image.Image, fmt: str, **options: object) -> Image.Image:
    buffer = io.BytesIO()
    picture.save(buffer, fmt, **options)  # type: ignore[arg-type]
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")


def half_jpeg70(picture: Image.Image) -> Image.Image:
    """The issue's transform: half the size, saved as JPEG at quality 70."""
    half = picture.resize((picture.width // 2, picture.height // 2), Image.Resampling.BICUBIC)
    return reopen(half, "JPEG", quality=70)


def centre_crop(picture: Image.Image, removed: float) -> Image.Image:
    """``removed`` of the width and height cut away, half on each side (then JPEG q85)."""
    w, h = picture.size
    dx, dy = int(w * removed / 2), int(h * removed / 2)
    return reopen(picture.crop((dx, dy, w - dx, h - dy)), "JPEG", quality=85)


def corner_crop(picture: Image.Image, removed: float) -> Image.Image:
    """``removed`` of the width and height cut from the left and top (then JPEG q85)."""
    w, h = picture.size
    return reopen(picture.crop((int(w * removed), int(h * removed), w, h)), "JPEG", quality=85)


def square_crop(picture: Image.Image) -> Image.Image:
    w, h = picture.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    return reopen(picture.crop((left, top, left + side, top + side)), "JPEG", quality=85)


IMAGE_TRANSFORMS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "half-size JPEG q70": half_jpeg70,
    "JPEG q50": lambda p: reopen(p, "JPEG", quality=50),
    "WEBP q75": lambda p: reopen(p, "WEBP", quality=75),
    "centre crop 10%": lambda p: centre_crop(p, 0.10),
    "centre crop 20%": lambda p: centre_crop(p, 0.20),
    "square crop": square_crop,
    "corner crop 5%": lambda p: corner_crop(p, 0.05),
    "corner crop 10%": lambda p: corner_crop(p, 0.10),
}

# Transforms the watermark is measured against (after embedding).
WATERMARK_TRANSFORMS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "PNG (lossless)": lambda p: p.convert("RGB"),
    "JPEG q90": lambda p: reopen(p, "JPEG", quality=90),
    "JPEG q70": lambda p: reopen(p, "JPEG", quality=70),
    "JPEG q50": lambda p: reopen(p, "JPEG", quality=50),
    "half-size JPEG q70": half_jpeg70,
    "resize 75%": lambda p: p.resize(
        (p.width * 3 // 4, p.height * 3 // 4), Image.Resampling.BICUBIC
    ),
    "resize 150%": lambda p: p.resize(
        (p.width * 3 // 2, p.height * 3 // 2), Image.Resampling.BICUBIC
    ),
    "WEBP q75": lambda p: reopen(p, "WEBP", quality=75),
    "greyscale": lambda p: p.convert("L").convert("RGB"),
    "brightness +10%": lambda p: ImageEnhance.Brightness(p).enhance(1.1),
    "contrast +20%": lambda p: ImageEnhance.Contrast(p).enhance(1.2),
    "blur r=1": lambda p: p.filter(ImageFilter.GaussianBlur(1)),
    "noise": lambda p: Image.blend(
        p.convert("RGB"), Image.effect_noise(p.size, 40).convert("RGB"), 0.1
    ),
    "rotate 1 degree": lambda p: p.rotate(1, resample=Image.Resampling.BICUBIC),
    "centre crop 2%": lambda p: centre_crop(p, 0.02),
    "centre crop 10%": lambda p: centre_crop(p, 0.10),
    "corner crop 10%": lambda p: corner_crop(p, 0.10),
}


# --- audio ----------------------------------------------------------------------------------


def synth_audio(seed: int, seconds: float = 12.0, rate: int = AUDIO_RATE) -> np.ndarray:
    """Mono int16 samples: a random sequence of tones, chirps, chords and noise bursts."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    y = np.zeros(n)
    pos = 0
    while pos < n:
        length = int(rng.uniform(0.15, 1.2) * rate)
        seg = slice(pos, min(n, pos + length))
        tt = t[seg] - t[pos]
        kind = rng.integers(4)
        if kind == 0:
            y[seg] += 0.4 * np.sin(2 * np.pi * rng.uniform(100, 2000) * tt)
        elif kind == 1:
            f0, f1 = rng.uniform(100, 3000, 2)
            y[seg] += 0.4 * np.sin(2 * np.pi * (f0 * tt + (f1 - f0) * tt**2 / (2 * tt[-1] + 1e-9)))
        elif kind == 2:
            y[seg] += 0.3 * rng.standard_normal(len(tt)) * np.exp(-tt * rng.uniform(2, 20))
        else:
            for harmonic in range(1, 5):
                y[seg] += 0.15 / harmonic * np.sin(2 * np.pi * rng.uniform(80, 400) * harmonic * tt)
        pos += length
    return np.asarray(np.clip(y, -1, 1) * 20_000, dtype=np.int16)


def write_audio(
    path: Path,
    samples: np.ndarray,
    *,
    rate: int = AUDIO_RATE,
    codec: str | None = None,
    bitrate: int | None = None,
    title: str | None = None,
) -> Path:
    """Encode mono int16 samples; the codec follows the extension unless given; ``title``
    goes into the container's metadata (a WAV's LIST/INFO chunk)."""
    codec = (
        codec
        or {".wav": "pcm_s16le", ".mp3": "libmp3lame", ".flac": "flac", ".m4a": "aac"}[path.suffix]
    )
    with av.open(str(path), "w") as out:
        if title:
            out.metadata["title"] = title
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"  # type: ignore[union-attr]
        if bitrate:
            stream.bit_rate = bitrate
        for start in range(0, len(samples), 4096):
            frame = av.AudioFrame.from_ndarray(
                samples[start : start + 4096].reshape(1, -1), format="s16", layout="mono"
            )
            frame.sample_rate = rate
            for packet in stream.encode(frame):  # type: ignore[union-attr]
                out.mux(packet)
        for packet in stream.encode(None):  # type: ignore[union-attr]
            out.mux(packet)
    return path


def transcode_audio(
    src: Path, dst: Path, *, bitrate: int | None = None, rate: int | None = None
) -> Path:
    """Decode ``src`` and encode it again in the codec of ``dst``'s extension."""
    codec = {".wav": "pcm_s16le", ".mp3": "libmp3lame", ".flac": "flac", ".m4a": "aac"}[dst.suffix]
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        source = inp.streams.audio[0]
        stream = out.add_stream(codec, rate=rate or source.rate)
        stream.layout = _layout(source)  # type: ignore[union-attr]
        if bitrate:
            stream.bit_rate = bitrate
        for frame in inp.decode(source):
            frame.pts = None
            for packet in stream.encode(frame):  # type: ignore[union-attr]
                out.mux(packet)
        for packet in stream.encode(None):  # type: ignore[union-attr]
            out.mux(packet)
    return dst


def speech(path: Path, text: str, *, voice: str = "en", speed: int = 160) -> Path | None:
    """Speech from Debian's espeak-ng (``make media-tools``), or None when it is missing."""
    binary = shutil.which("espeak-ng")
    if binary is None:
        return None
    subprocess.run([binary, "-v", voice, "-s", str(speed), "-w", str(path), text], check=True)
    return path


# --- video ----------------------------------------------------------------------------------


def make_video(
    path: Path,
    seed: int,
    *,
    seconds: int = 6,
    fps: int = 24,
    size: tuple[int, int] = (640, 360),
    bitrate: int = 1_500_000,
    audio: bool = True,
) -> Path:
    """H.264 video (MP4 or MOV by extension) of a panning scene with moving discs, and a
    soundtrack of ``synth_audio`` when ``audio``."""
    rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
    width, height = size
    background = scene(seed, (width + 200, height + 200))
    sprites = [
        (rng.randrange(width), rng.randrange(height), rng.uniform(-4, 4), rng.uniform(-4, 4),
         rng.randrange(20, 80), tuple(rng.randrange(256) for _ in range(3)))
        for _ in range(6)
    ]  # fmt: skip
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height = size  # type: ignore[union-attr]
        video.pix_fmt = "yuv420p"  # type: ignore[union-attr]
        video.bit_rate = bitrate
        sound = None
        if audio:
            sound = out.add_stream("aac", rate=AUDIO_RATE)
            sound.layout = "mono"  # type: ignore[union-attr]
        for i in range(seconds * fps):
            t = i / fps
            ox, oy = int(100 + 80 * math.sin(t * 0.7)), int(100 + 80 * math.cos(t * 0.5))
            frame = background.crop((ox, oy, ox + width, oy + height))
            draw = ImageDraw.Draw(frame)
            for x, y, vx, vy, r, colour in sprites:
                cx, cy = (x + vx * i) % width, (y + vy * i) % height
                draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
            for packet in video.encode(av.VideoFrame.from_image(frame)):  # type: ignore[union-attr]
                out.mux(packet)
        for packet in video.encode(None):  # type: ignore[union-attr]
            out.mux(packet)
        if sound is not None:
            samples = synth_audio(seed + 10_000, seconds=seconds)
            for start in range(0, len(samples), 4096):
                chunk = av.AudioFrame.from_ndarray(
                    samples[start : start + 4096].reshape(1, -1), format="s16", layout="mono"
                )
                chunk.sample_rate = AUDIO_RATE
                for packet in sound.encode(chunk):  # type: ignore[union-attr]
                    out.mux(packet)
            for packet in sound.encode(None):  # type: ignore[union-attr]
                out.mux(packet)
    return path


def reencode_video(
    src: Path,
    dst: Path,
    *,
    bitrate: int | None = None,
    crf: int | None = None,
    size: tuple[int, int] | None = None,
    crop: float = 0.0,
) -> Path:
    """The video of ``src`` encoded again (H.264 at ``bitrate`` or ``crf``; ``crop`` of its
    width and height cut away, half on each side, then optionally resized), with its
    soundtrack re-encoded as AAC at 96 kbps."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        dx, dy = int(vin.width * crop / 2), int(vin.height * crop / 2)
        box = (dx, dy, vin.width - dx, vin.height - dy)
        natural = ((box[2] - box[0]) // 2 * 2, (box[3] - box[1]) // 2 * 2)
        video = out.add_stream("libx264", rate=vin.average_rate)
        video.width, video.height = size or natural  # type: ignore[union-attr]
        video.pix_fmt = "yuv420p"  # type: ignore[union-attr]
        if bitrate:
            video.bit_rate = bitrate
        if crf is not None:
            video.options = {"crf": str(crf)}
        for frame in inp.decode(vin):
            picture = frame.to_image()
            if crop:
                picture = picture.crop(box)
            picture = picture.resize(size or natural, Image.Resampling.BICUBIC)
            for packet in video.encode(av.VideoFrame.from_image(picture)):  # type: ignore[union-attr]
                out.mux(packet)
        for packet in video.encode(None):  # type: ignore[union-attr]
            out.mux(packet)
    if not _has_audio(src):
        return dst
    with_sound = dst.with_name("a-" + dst.name)
    with av.open(str(dst)) as vid, av.open(str(src)) as snd, av.open(str(with_sound), "w") as out:
        vin = vid.streams.video[0]
        vout = out.add_stream_from_template(vin)
        ain = snd.streams.audio[0]
        aout = out.add_stream("aac", rate=ain.rate)
        aout.layout = _layout(ain)  # type: ignore[union-attr]
        aout.bit_rate = 96_000
        for packet in vid.demux(vin):
            if packet.dts is None:
                continue
            packet.stream = vout
            out.mux(packet)
        for frame in snd.decode(ain):
            frame.pts = None
            for packet in aout.encode(frame):  # type: ignore[union-attr]
                out.mux(packet)
        for packet in aout.encode(None):  # type: ignore[union-attr]
            out.mux(packet)
    with_sound.replace(dst)
    return dst


def remux(src: Path, dst: Path) -> Path:
    """The streams of ``src`` copied packet for packet into a new container (``dst``'s
    extension): the content as it was, the container's metadata (a C2PA box or chunk) gone."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        streams = {
            s.index: out.add_stream_from_template(s)
            for s in inp.streams
            if s.type in ("audio", "video")
        }
        for packet in inp.demux(*[inp.streams[i] for i in streams]):
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    return dst


_JPEG_KEPT = {0xE0, 0xDB, 0xC0, 0xC1, 0xC2, 0xC4, 0xDD}  # APP0, tables, frame headers, DRI


def strip_metadata(src: Path, dst: Path) -> Path:
    """``src`` without metadata: a JPEG keeps only the segments its picture needs (APPn,
    COM and the rest dropped), a PNG only its critical chunks; audio and video are remuxed."""
    data = src.read_bytes()
    if data.startswith(b"\xff\xd8"):
        out, pos = bytearray(b"\xff\xd8"), 2
        while pos < len(data):
            marker = data[pos + 1]
            if marker == 0xDA:  # start of scan: the picture itself, to the end
                out += data[pos:]
                break
            length = int.from_bytes(data[pos + 2 : pos + 4], "big")
            if marker in _JPEG_KEPT:
                out += data[pos : pos + 2 + length]
            pos += 2 + length
        dst.write_bytes(bytes(out))
        return dst
    if data.startswith(b"\x89PNG"):
        out, pos = bytearray(data[:8]), 8
        while pos < len(data):
            length = int.from_bytes(data[pos : pos + 4], "big")
            kind = data[pos + 4 : pos + 8]
            if kind in (b"IHDR", b"PLTE", b"IDAT", b"IEND"):
                out += data[pos : pos + 12 + length]
            pos += 12 + length
        dst.write_bytes(bytes(out))
        return dst
    return remux(src, dst)


def _layout(stream: av.audio.stream.AudioStream) -> str:
    """A layout name encoders accept (a WAV without a channel mask says '1 channels')."""
    return {1: "mono", 2: "stereo"}.get(stream.channels, stream.layout.name)


def _has_audio(path: Path) -> bool:
    with av.open(str(path)) as container:
        return bool(container.streams.audio)
