"""The c2pa.soft-binding assertions: their shape, and that real c2pa signs and reads them."""

from __future__ import annotations

import base64
from pathlib import Path

import iscc_core as ic

from registry.c2pa.adapter import read_manifest, sign_file
from registry.c2pa.labels import SOFT_BINDING_LABEL
from registry.keys.c2pa_credential import create_dev_credential
from registry.provenance.fingerprints import ALG, WATERMARK_ALG, fingerprint
from registry.provenance.softbinding import (
    soft_binding_assertions,
    values_of,
    watermarked_action,
)
from registry.provenance.watermark import embed
from registry.provenance.watermark_keys import watermark_key
from tests.provenance import media

KEY = watermark_key("asset", b"secret")


def test_one_assertion_per_algorithm_with_base64_iscc_units(media_dir: Path) -> None:
    prints = fingerprint(media.save(media.scene(1), media_dir / "p.png"), "image")

    iscc, marked = soft_binding_assertions(prints, watermark_key=KEY)

    assert iscc["label"] == marked["label"] == SOFT_BINDING_LABEL
    assert iscc["data"]["alg"] == ALG and marked["data"]["alg"] == WATERMARK_ALG
    blocks = iscc["data"]["blocks"]
    assert len(blocks) == len(prints)
    whole = base64.b64decode(blocks[0]["value"])
    assert "ISCC:" + ic.encode_base32(whole) == prints[0].iscc  # header + digest
    assert blocks[0]["scope"] == {}
    shape = blocks[1]["scope"]["region"]["region"][0]
    assert shape["type"] == "spatial" and shape["shape"]["unit"] == "percent"
    assert shape["shape"]["origin"] == {"x": 3.5, "y": 3.5} and shape["shape"]["width"] == 93.0
    assert marked["data"]["blocks"] == [{"scope": {}, "value": base64.b64encode(KEY).decode()}]


def test_video_frames_carry_timespans_and_audio_variants_stay_out(media_dir: Path) -> None:
    video = media.make_video(media_dir / "v.mp4", 3, seconds=6, size=(320, 180))
    prints = fingerprint(video, "video")

    (iscc,) = soft_binding_assertions(prints)

    scopes = [block["scope"] for block in iscc["data"]["blocks"]]
    assert scopes[:6] == [{"timespan": {"start": s, "end": s + 1000}} for s in range(0, 6000, 1000)]
    assert scopes[6:] == [{}]  # the soundtrack's code; its shifted, trimmed variants: index only
    # The code, its 4 shifts and the 5% trims (at either end; at the start of each shift):
    # 10% off 6 s leaves fewer features than a code takes.
    assert len([fp for fp in prints if fp.unit == "audio"]) == 11


def test_c2pa_signs_and_reads_back_the_soft_bindings(media_dir: Path) -> None:
    source = media.save(media.scene(2, (640, 480)), media_dir / "in.jpg", quality=92)
    marked = media_dir / "marked.jpg"
    embed(source, marked, KEY)
    prints = fingerprint(marked, "image")
    credential = create_dev_credential(media_dir / "keys")
    definition = {
        "claim_generator_info": [{"name": "provenance-test", "version": "1"}],
        "title": "marked.jpg",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
                        },
                        watermarked_action(),
                    ]
                },
            },
            *soft_binding_assertions(prints, watermark_key=KEY),
        ],
    }

    signed = media_dir / "signed.jpg"
    sign_file(
        source=marked, dest=signed, mime_type="image/jpeg", manifest=definition,
        credential=credential.credential,
    )  # fmt: skip
    report = read_manifest(path=signed, mime_type="image/jpeg", trust_anchors_pem=credential.ca_pem)

    assert report.has_manifest and not report.failure_codes
    store = report.manifest_store or {}
    assertions = store["manifests"][report.active_manifest_label]["assertions"]
    bindings = {
        a["data"]["alg"]: a["data"] for a in assertions if a["label"].startswith(SOFT_BINDING_LABEL)
    }
    assert values_of(bindings[WATERMARK_ALG]) == [KEY]
    assert values_of(bindings[ALG]) == [fp.iscc_bytes for fp in prints]
    assert any(a["action"] == "c2pa.watermarked" for a in report.actions)
