"""One run of the bare signing pipeline, in a fresh process: c2pa file to file, boto3 upload.

Run by benchmarks/sign_throughput.py as ``python benchmarks/_bare_pipeline.py JOB.json``; prints
one JSON line with the timings, this process's own CPU seconds and I/O bytes for the signing and
for the upload (getrusage(RUSAGE_SELF): every thread, boto3's transfer threads included;
/proc/self/io: the same counters psutil reports for the service's worker) and its peak RSS. It
imports only c2pa and boto3 (not the registry, not even psutil), so its memory is what the
vendor libraries need, nothing of ours.

The job names the manifest definition (built by the registry's own ``build_manifest``), the
c2pa settings (``c2pa_adapter.signing_settings``), the botocore and TransferConfig keyword
arguments (``storage.s3.client_options`` / ``transfer_options``) and the PEM credential, so the
bare run signs and uploads exactly as the service does, minus the service.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import c2pa
from boto3.s3.transfer import TransferConfig
from botocore.config import Config


def _sign(
    job: dict[str, Any], source: Path, dest: Path, mime_type: str, definition: dict[str, Any]
) -> None:
    # What c2pa's own Builder.sign_file does (files opened with Python's defaults), with an
    # explicit MIME type (sign_file would guess audio/x-wav from the name) and our settings.
    info = c2pa.C2paSignerInfo(
        job["alg"].encode(),
        Path(job["chain_pem"]).read_bytes(),
        Path(job["key_pem"]).read_bytes(),
        None,
    )
    with (
        c2pa.Context.from_dict(job["c2pa_settings"]) as context,
        c2pa.Builder(definition, context=context) as builder,
        c2pa.Signer.from_info(info) as signer,
        source.open("rb") as source_stream,
        dest.open("w+b") as dest_stream,
    ):
        builder.sign(signer, mime_type, source_stream, dest_stream)


def _status_bytes(name: str) -> int:
    """VmRSS (now) or VmHWM (the peak) of this process, in bytes.

    Not ``ru_maxrss``: Linux carries the parent's high-water mark over into the child's across
    fork (vfork) and exec, so a child of a large parent would report the parent's size.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024
    if name == "VmHWM":  # not Linux: ru_maxrss is in KiB there only on Linux anyway
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return 0


_IO_NAMES = {
    "rchar": "read_chars",
    "wchar": "write_chars",
    "read_bytes": "read_bytes",
    "write_bytes": "write_bytes",
    "cancelled_write_bytes": "cancelled_write_bytes",
}


def _usage() -> dict[str, float]:
    """CPU seconds (user, system; all threads) and /proc/self/io, under psutil's names (the
    fields of benchmarks._harness.Usage)."""
    rusage = resource.getrusage(resource.RUSAGE_SELF)
    usage: dict[str, float] = {"user_s": rusage.ru_utime, "system_s": rusage.ru_stime}
    for line in Path("/proc/self/io").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in _IO_NAMES:
            usage[_IO_NAMES[key]] = int(value)
    return usage


def _delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before[name] for name in after}


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text())
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=job["endpoint_url"],
        region_name="us-east-1",
        config=Config(**job["client_options"]),
    )
    transfer = TransferConfig(**job["transfer_options"])
    workdir = Path(job["workdir"])
    # Warm up as a long-running service is warm: a connection to S3, c2pa's first signing.
    client.head_bucket(Bucket=job["bucket"])
    warmup = Path(job["warmup_source"])
    _sign(job, warmup, workdir / "warmup.jpg", "image/jpeg", job["warmup_definition"])

    dest = workdir / f"signed{Path(job['source']).suffix}"
    idle = _status_bytes("VmRSS")
    usage_started = _usage()
    started = time.perf_counter()
    _sign(job, Path(job["source"]), dest, job["mime_type"], job["definition"])
    signed = time.perf_counter()
    usage_signed = _usage()
    client.upload_file(
        str(dest),
        job["bucket"],
        job["key"],
        ExtraArgs={"ContentType": job["mime_type"]},
        Config=transfer,
    )
    uploaded = time.perf_counter()
    usage_uploaded = _usage()
    size = dest.stat().st_size
    dest.unlink()
    peak = _status_bytes("VmHWM")
    print(
        json.dumps(
            {
                "sign_s": signed - started,
                "upload_s": uploaded - signed,
                "total_s": uploaded - started,
                "signed_size": size,
                "sign_usage": _delta(usage_signed, usage_started),
                "upload_usage": _delta(usage_uploaded, usage_signed),
                "idle_rss": idle,
                "peak_rss": peak,
                "pid": os.getpid(),
            }
        )
    )


if __name__ == "__main__":
    main()
