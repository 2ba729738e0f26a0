"""Benchmark: verification, bare c2pa.Reader versus the service end to end.

For a 1 MP JPEG, a 10-minute WAV (44.1 kHz 16-bit mono, ~53 MB) and a ~100 MB MP4, all
generated here and signed with the service's development credential:
  bare     c2pa.Reader over the file on disk, with the same trust anchors and settings;
  service  HTTP upload to POST /v1/verify (raw body, and multipart) under gunicorn on
           loopback, spooled, hashed, read, checked against the registry: the verdict.
Also requests per second for the small JPEG with two gunicorn workers (wrk, loopback).
Target (issue 4): service / bare <= 1.15 on the WAV and the MP4.

    .venv/bin/python benchmarks/verify_throughput.py [--runs 5] [--mp4-mb 100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import c2pa
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks._harness import gunicorn, postgres_schema, run_wrk, sha256_mb_s  # noqa: E402
from registry.keys.c2pa_credential import DEV_CA_FILE, create_dev_credential  # noqa: E402
from registry.media.c2pa_adapter import sign_file  # noqa: E402
from tests.media import assets  # noqa: E402

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def manifest() -> dict:  # type: ignore[type-arg]
    action = {
        "action": "c2pa.created",
        "digitalSourceType": IPTC,
        "softwareAgent": {"name": "Bench", "version": "1"},
    }
    return {
        "claim_generator_info": [{"name": "bench", "version": "1"}],
        "title": "bench",
        "assertions": [{"label": "c2pa.actions", "data": {"actions": [action]}}],
    }


def make_files(work: Path, mp4_mb: int) -> dict[str, tuple[Path, str]]:
    return {
        "1 MP JPEG": (assets.make_jpeg(work, size=(1000, 1000)), "image/jpeg"),
        "10 min WAV": (assets.make_wav(work, seconds=600, rate=44_100), "audio/wav"),
        f"{mp4_mb} MB MP4": (assets.make_large_mp4(work, megabytes=mp4_mb), "video/mp4"),
    }


def median_seconds(action: Callable[[], object], runs: int) -> float:
    action()  # warm caches (page cache, connections, imports)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def bare_read(path: Path, mime: str, anchors: str) -> None:
    settings = {
        "trust": {"user_anchors": anchors},
        "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
    }
    with (
        c2pa.Context.from_dict(settings) as context,
        path.open("rb") as stream,
        c2pa.Reader(mime, stream, context=context) as reader,
    ):
        state = json.loads(reader.json())["validation_state"]
    assert state == "Trusted", state


def service_raw(http: httpx.Client, path: Path) -> None:
    with path.open("rb") as handle:
        response = http.post(
            "/v1/verify", content=handle, headers={"Content-Type": "application/octet-stream"}
        )
    assert response.status_code == 200 and response.json()["verdict"] != "fail", response.text


def service_multipart(http: httpx.Client, path: Path) -> None:
    with path.open("rb") as handle:
        response = http.post("/v1/verify", files={"file": (path.name, handle)})
    assert response.status_code == 200 and response.json()["verdict"] != "fail", response.text


def wrk_post_script(path: Path, directory: Path) -> Path:
    script = directory / "verify.lua"
    script.write_text(
        f'local f = io.open("{path}", "rb")\n'
        "wrk.method = 'POST'\nwrk.body = f:read('*all')\nf:close()\n"
        "wrk.headers['Content-Type'] = 'application/octet-stream'\n"
    )
    return script


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mp4-mb", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration for the RPS figure")
    args = parser.parse_args()
    env = {
        "REGISTRY_ANONYMOUS_VERIFY_RATE": "1000000/second",
        "REGISTRY_MAX_UPLOAD_BYTES": str(1024**3),
    }
    rows = []
    with postgres_schema("registry_bench_verify") as url, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = make_files(work, args.mp4_mb)
        with gunicorn({**env, "REGISTRY_DATABASE_URL": url}, workers=2, threads=4) as server:
            keys = server.data_dir / "keys" / "c2pa"
            credential = create_dev_credential(keys).credential
            anchors = (keys / DEV_CA_FILE).read_text()
            with httpx.Client(base_url=server.base_url, timeout=600) as http:
                for name, (source, mime) in files.items():
                    signed = work / f"signed-{source.name}"
                    sign_file(
                        source=source,
                        dest=signed,
                        mime_type=mime,
                        manifest=manifest(),
                        credential=credential,
                    )
                    runs = (
                        args.runs if signed.stat().st_size < 20_000_000 else max(3, args.runs // 2)
                    )
                    bare = median_seconds(partial(bare_read, signed, mime, anchors), runs)
                    raw = median_seconds(partial(service_raw, http, signed), runs)
                    multi = median_seconds(partial(service_multipart, http, signed), runs)
                    rows.append((name, signed.stat().st_size, bare, raw, multi))
                jpeg = work / f"signed-{files['1 MP JPEG'][0].name}"
                load = run_wrk(
                    server.base_url + "/v1/verify",
                    connections=8,
                    seconds=args.seconds,
                    script=wrk_post_script(jpeg, work),
                )
    sha_mbs = sha256_mb_s()
    print(
        f"{'file':<14}{'MB':>8}{'bare s':>10}{'raw s':>10}{'ratio':>8}{'multipart s':>13}{'ratio':>8}"
    )
    met = True
    for name, size, bare, raw, multi in rows:
        print(
            f"{name:<14}{size / 1e6:>8.1f}{bare:>10.3f}{raw:>10.3f}{raw / bare:>8.2f}"
            f"{multi:>13.3f}{multi / bare:>8.2f}"
        )
        if "JPEG" not in name:
            met &= raw / bare <= 1.15
    print(
        f"1 MP JPEG with 2 gunicorn workers (wrk, 8 connections): {load.rps:.0f} requests/s, "
        f"p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, non-2xx {load.non_2xx}"
    )
    print(f"SHA-256 on this machine: {sha_mbs:.0f} MB/s")
    print(
        "target service/bare <= 1.15 on WAV and MP4 (raw upload): " + ("met" if met else "NOT MET")
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
