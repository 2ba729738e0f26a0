"""The development CA, PEM credentials and c2pa signers, including the KMS callback signer."""

from __future__ import annotations

import hashlib
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import c2pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image

from registry.c2pa.adapter import read_manifest, sign_file
from registry.errors import problem_type
from registry.keys.c2pa_credential import (
    C2PA_CLAIM_SIGNING,
    DEV_MARKER,
    DOCUMENT_SIGNING,
    DevCredential,
    SigningCredential,
    SigningCredentialError,
    create_dev_credential,
    load_credential,
)
from registry.keys.kms import KmsCredential, der_to_raw_ecdsa, load_kms_credential

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


@pytest.fixture
def dev(tmp_path: Path) -> DevCredential:
    return create_dev_credential(tmp_path / "keys")


def _chain(dev: DevCredential) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(dev.chain_path.read_bytes())


def test_dev_credential_writes_ca_chain_key_and_marker(dev: DevCredential) -> None:
    names = sorted(path.name for path in dev.directory.iterdir())
    assert names == sorted([".lock", "c2pa-ca.pem", "c2pa-chain.pem", "c2pa-key.pem", DEV_MARKER])
    assert stat.S_IMODE(dev.key_path.stat().st_mode) == 0o600
    leaf, ca = _chain(dev)
    assert leaf.issuer == ca.subject
    assert x509.load_pem_x509_certificate(dev.ca_path.read_bytes()) == ca


def test_dev_credential_is_idempotent(dev: DevCredential) -> None:
    again = create_dev_credential(dev.directory)
    assert again.credential == dev.credential
    assert again.key_path.read_bytes() == dev.key_path.read_bytes()


_CREATE_WHEN_RELEASED = """
import hashlib, sys, time
from pathlib import Path
from registry.keys.c2pa_credential import create_dev_credential
start = Path(sys.argv[2])
Path(sys.argv[3]).touch()
while not start.exists():
    time.sleep(0.0005)
print(hashlib.sha256(create_dev_credential(Path(sys.argv[1])).key_path.read_bytes()).hexdigest())
"""


def test_dev_credential_created_once_when_processes_race(tmp_path: Path) -> None:
    # gunicorn's workers all create the credential at start; each must end with the same
    # key and a chain that matches it (load_credential checks the pair).
    directory, start = tmp_path / "keys", tmp_path / "start"
    racers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _CREATE_WHEN_RELEASED,
                str(directory),
                str(start),
                str(tmp_path / f"ready-{number}"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for number in range(6)
    ]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("ready-*"))) < 6 and time.monotonic() < deadline:
        time.sleep(0.01)  # every racer imported and waiting
    start.touch()
    results = [racer.communicate(timeout=60) for racer in racers]
    assert [racer.returncode for racer in racers] == [0] * 6, [err for _, err in results]
    digests = {out.strip() for out, _ in results}
    assert digests == {hashlib.sha256((directory / "c2pa-key.pem").read_bytes()).hexdigest()}


def test_dev_ca_is_a_critical_ca_that_signs_certificates(dev: DevCredential) -> None:
    ca = _chain(dev)[1]
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage)
    assert constraints.critical and constraints.value.ca
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert ca.issuer == ca.subject
    assert isinstance(ca.public_key(), ec.EllipticCurvePublicKey)


def test_dev_leaf_is_a_c2pa_claim_signer(dev: DevCredential) -> None:
    leaf, ca = _chain(dev)
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    ekus = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    assert set(ekus) == {C2PA_CLAIM_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING}
    assert aki.key_identifier == ski.digest
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    assert 700 <= lifetime.days <= 740


def test_dev_certificates_say_development_only(dev: DevCredential) -> None:
    for cert in _chain(dev):
        (common_name,) = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        assert "DEVELOPMENT ONLY" in str(common_name.value)
    assert dev.credential.is_development


def test_credential_without_marker_is_not_development(dev: DevCredential, tmp_path: Path) -> None:
    production = tmp_path / "production"
    production.mkdir()
    shutil.copy(dev.chain_path, production / "chain.pem")
    shutil.copy(dev.key_path, production / "key.pem")
    credential = load_credential(
        cert_chain=production / "chain.pem",
        private_key=production / "key.pem",
        tsa_url="http://tsa.example/",
    )
    assert not credential.is_development
    assert credential.alg == "es256"
    assert credential.tsa_url == "http://tsa.example/"


def test_key_that_does_not_match_the_chain_is_refused(dev: DevCredential, tmp_path: Path) -> None:
    other = create_dev_credential(tmp_path / "other", label="B")
    with pytest.raises(SigningCredentialError, match="does not match"):
        load_credential(cert_chain=dev.chain_path, private_key=other.key_path)


def test_missing_or_non_pem_files_are_refused(dev: DevCredential, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(SigningCredentialError) as missing:
        load_credential(cert_chain=tmp_path / "absent.pem", private_key=dev.key_path)
    with pytest.raises(SigningCredentialError):
        load_credential(cert_chain=junk, private_key=dev.key_path)
    assert missing.value.status == 500
    assert missing.value.type == problem_type("signing-credential-unavailable")


def test_repr_never_shows_the_private_key(dev: DevCredential) -> None:
    assert "PRIVATE" not in repr(dev.credential)
    assert "PRIVATE" not in repr(dev)


def test_a_credential_c2pa_rejects_is_a_credential_error(
    dev: DevCredential, tmp_path: Path
) -> None:
    broken = SigningCredential(cert_chain_pem=dev.credential.cert_chain_pem, private_key_pem=b"x")
    source, dest = tmp_path / "source.jpg", tmp_path / "signed.jpg"
    Image.new("RGB", (32, 32), (90, 30, 200)).save(source, "JPEG")
    with pytest.raises(SigningCredentialError) as caught:
        sign_file(source=source, dest=dest, mime_type="image/jpeg", manifest={}, credential=broken)
    assert not isinstance(caught.value, c2pa.C2paError)
    assert not dest.exists()


# --- KMS callback signer: a local key stands in for KMS; c2pa itself is real. ---


class LocalKms:
    """Answers ``kms.sign`` like AWS KMS does for an ECC_NIST_P256 key: DER over a digest."""

    def __init__(self, key_pem: bytes) -> None:
        key = serialization.load_pem_private_key(key_pem, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        self.key = key
        self.requests: list[dict[str, object]] = []

    def sign(
        self, *, KeyId: str, Message: bytes, MessageType: str, SigningAlgorithm: str
    ) -> dict[str, object]:
        self.requests.append({"KeyId": KeyId, "MessageType": MessageType, "alg": SigningAlgorithm})
        assert MessageType == "DIGEST" and len(Message) == 32
        der = self.key.sign(Message, ec.ECDSA(Prehashed(hashes.SHA256())))
        return {"KeyId": KeyId, "Signature": der, "SigningAlgorithm": SigningAlgorithm}


def test_der_signature_becomes_fixed_width_r_and_s() -> None:
    raw = der_to_raw_ecdsa(encode_dss_signature(1, 2**255 + 7))
    assert raw == (1).to_bytes(32, "big") + (2**255 + 7).to_bytes(32, "big")


def test_der_signature_for_a_bigger_curve_is_refused() -> None:
    with pytest.raises(SigningCredentialError):
        der_to_raw_ecdsa(encode_dss_signature(2**300, 5))
    with pytest.raises(SigningCredentialError):
        der_to_raw_ecdsa(b"\x30\x00garbage")


def test_kms_callback_returns_a_verifiable_raw_signature(dev: DevCredential) -> None:
    kms = LocalKms(dev.credential.private_key_pem)
    credential = load_kms_credential(cert_chain=dev.chain_path, key_id="alias/c2pa", client=kms)
    raw = credential.sign_digest_of(b"to be signed")
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    kms.key.public_key().verify(der, b"to be signed", ec.ECDSA(hashes.SHA256()))
    assert kms.requests == [
        {"KeyId": "alias/c2pa", "MessageType": "DIGEST", "alg": "ECDSA_SHA_256"}
    ]
    assert credential.is_development


def test_kms_credential_signs_media_that_verifies_as_trusted(
    dev: DevCredential, tmp_path: Path
) -> None:
    kms = LocalKms(dev.credential.private_key_pem)
    credential = KmsCredential(cert_chain_pem=dev.credential.cert_chain_pem, key_id="k", client=kms)
    source, signed = tmp_path / "source.jpg", tmp_path / "signed.jpg"
    Image.new("RGB", (32, 32), (90, 30, 200)).save(source, "JPEG")
    created = {"action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA}
    sign_file(
        source=source,
        dest=signed,
        mime_type="image/jpeg",
        manifest={"assertions": [{"label": "c2pa.actions", "data": {"actions": [created]}}]},
        credential=credential,
    )
    report = read_manifest(path=signed, mime_type="image/jpeg", trust_anchors_pem=dev.ca_pem)
    assert report.validation_state == "Trusted"
    assert len(kms.requests) == 1
