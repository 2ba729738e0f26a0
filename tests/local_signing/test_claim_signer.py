"""The registry's signature of a session's claim: its PEM key in the worker, or KMS."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from registry.keys.c2pa_credential import DevCredential, create_dev_credential
from registry.keys.claim_signer import chain_der, sign_es256
from registry.keys.kms import KmsCredential
from tests.keys.test_c2pa_credential import LocalKms


@pytest.fixture
def dev(tmp_path: Path) -> DevCredential:
    return create_dev_credential(tmp_path / "keys")


def _verify(public: ec.EllipticCurvePublicKey, raw: bytes, data: bytes) -> None:
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, data, ec.ECDSA(hashes.SHA256()))


def test_the_pem_key_signs_raw_es256(dev: DevCredential) -> None:
    raw = sign_es256(dev.credential, b"Sig_structure")
    leaf = x509.load_pem_x509_certificates(dev.credential.cert_chain_pem)[0]
    public = leaf.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    _verify(public, raw, b"Sig_structure")


def test_kms_signs_the_digest(dev: DevCredential) -> None:
    kms = LocalKms(dev.credential.private_key_pem)
    credential = KmsCredential(cert_chain_pem=dev.credential.cert_chain_pem, key_id="k", client=kms)
    raw = sign_es256(credential, b"Sig_structure")
    _verify(kms.key.public_key(), raw, b"Sig_structure")
    assert [r["MessageType"] for r in kms.requests] == ["DIGEST"]


def test_the_chain_is_listed_leaf_first_as_der(dev: DevCredential) -> None:
    certs = x509.load_pem_x509_certificates(dev.credential.cert_chain_pem)
    assert chain_der(dev.credential) == [c.public_bytes(serialization.Encoding.DER) for c in certs]
    assert len(certs) == 2
