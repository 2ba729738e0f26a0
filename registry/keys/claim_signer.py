"""ES256 over a C2PA claim's COSE Sig_structure, with the registry's C2PA credential, in this
process (signing sessions: the pipeline's c2pa asks, the registry signs).

The same credential as every signing: a PEM key on disk, or a KMS key (the digest is sent).
COSE (RFC 9053) wants the raw ``r || s`` pair, not DER.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from registry.keys.c2pa_credential import C2paCredential, SigningCredentialError
from registry.keys.kms import KmsCredential, der_to_raw_ecdsa


def sign_es256(credential: C2paCredential, data: bytes) -> bytes:
    """The COSE ES256 signature (64 bytes) of ``data``."""
    if isinstance(credential, KmsCredential):
        return credential.sign_digest_of(data)
    key = serialization.load_pem_private_key(credential.private_key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SigningCredentialError("the signing key must be an EC P-256 key (es256)")
    return der_to_raw_ecdsa(key.sign(data, ec.ECDSA(hashes.SHA256())))


def chain_der(credential: C2paCredential) -> list[bytes]:
    """The credential's certificate chain (leaf first) as DER, as COSE's x5chain lists it."""
    return [
        cert.public_bytes(serialization.Encoding.DER)
        for cert in x509.load_pem_x509_certificates(credential.cert_chain_pem)
    ]
