"""C2PA signing credentials: the development CA and PEM files on disk.

A credential is plain data (PEM bytes and settings); the c2pa helper process
(``registry/c2pa/helper.py``) makes the native signer from it, so this module never imports c2pa.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from registry.errors import InternalError
from registry.keys.keyring import DEV_MARKER, exclusive_lock, is_development_dir

if TYPE_CHECKING:
    from registry.keys.kms import KmsCredential

DEV_CA_FILE = "c2pa-ca.pem"
DEV_CHAIN_FILE = "c2pa-chain.pem"
DEV_KEY_FILE = "c2pa-key.pem"

# c2pa-kp-claimSigning, the EKU the C2PA trust list expects of claim signers.
C2PA_CLAIM_SIGNING = ObjectIdentifier("1.3.6.1.4.1.62558.2.1")
# id-kp-documentSigning (RFC 9336); `cryptography` has no named constant for it.
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
# EKUs a claim signer may carry, as the C2PA trust model lists them.
CLAIM_SIGNING_EKUS: tuple[str, ...] = (
    C2PA_CLAIM_SIGNING.dotted_string,
    ExtendedKeyUsageOID.EMAIL_PROTECTION.dotted_string,
    DOCUMENT_SIGNING.dotted_string,
    "1.3.6.1.4.1.311.76.59.1.9",  # Microsoft's C2PA signing EKU
)
# What c2pa must accept (its `trust.trust_config`). c2pa-rs 0.91's built-in list lacks the C2PA
# and documentSigning OIDs: a leaf with only c2pa-kp-claimSigning fails as "missing required EKU".
SIGNER_EKUS: tuple[str, ...] = (
    *CLAIM_SIGNING_EKUS,
    ExtendedKeyUsageOID.TIME_STAMPING.dotted_string,  # the timestamp authority's chain
    ExtendedKeyUsageOID.OCSP_SIGNING.dotted_string,  # OCSP responders
)

_DEV_ORG = "Consent Registry (development)"
_CA_VALIDITY = dt.timedelta(days=5 * 365)
_LEAF_VALIDITY = dt.timedelta(days=2 * 365)
# Clock skew between the machine that signs and the one that verifies.
_BACKDATE = dt.timedelta(minutes=5)


class SigningCredentialError(InternalError):
    """The configured signing credential cannot be loaded or used (a server-side fault)."""

    slug = "signing-credential-unavailable"
    title = "The signing credential is not usable"


@dataclass(frozen=True)
class SigningCredential:
    """A certificate chain (leaf first) and its private key, both PEM."""

    cert_chain_pem: bytes = field(repr=False)
    private_key_pem: bytes = field(default=b"", repr=False)  # never in a log line
    alg: str = "es256"
    tsa_url: str | None = None
    is_development: bool = False


@dataclass(frozen=True)
class DevCredential:
    """Where the development CA and leaf live, and the credential they make."""

    directory: Path
    ca_path: Path
    chain_path: Path
    key_path: Path
    credential: SigningCredential

    @property
    def ca_pem(self) -> str:
        return self.ca_path.read_text()


# Every kind of credential the registry signs with: a PEM key on disk, or a KMS key.
C2paCredential: TypeAlias = "SigningCredential | KmsCredential"


def load_credential(
    *, cert_chain: Path, private_key: Path, tsa_url: str | None = None
) -> SigningCredential:
    """Load a PEM chain and key; a ``DEVELOPMENT-ONLY`` file beside the chain marks dev keys."""
    try:
        chain_pem = cert_chain.read_bytes()
        key_pem = private_key.read_bytes()
    except OSError as exc:
        raise SigningCredentialError(f"cannot read the signing credential: {exc}") from exc
    _check_pem(chain_pem=chain_pem, key_pem=key_pem)
    if tsa_url is not None and not tsa_url.startswith(("http://", "https://")):
        raise SigningCredentialError("the timestamp authority URL must be http(s)")
    return SigningCredential(
        cert_chain_pem=chain_pem,
        private_key_pem=key_pem,
        tsa_url=tsa_url,
        is_development=is_development_dir(cert_chain.parent),
    )


def _check_pem(*, chain_pem: bytes, key_pem: bytes) -> None:
    """Fail at load time, with a clear message, rather than on the first upload."""
    try:
        certs = x509.load_pem_x509_certificates(chain_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
    except ValueError as exc:
        raise SigningCredentialError(f"the signing credential is not valid PEM: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise SigningCredentialError("the signing key must be an EC P-256 key (es256)")
    if certs[0].public_key() != key.public_key():
        raise SigningCredentialError("the first certificate of the chain does not match the key")
    _check_claim_signing_eku(certs[0])


def _check_claim_signing_eku(leaf: x509.Certificate) -> None:
    try:
        ekus = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        raise SigningCredentialError("the signing certificate has no extended key usage") from None
    if not {oid.dotted_string for oid in ekus} & set(CLAIM_SIGNING_EKUS):
        raise SigningCredentialError(
            "the signing certificate lacks a C2PA claim-signing extended key usage "
            "(c2pa-kp-claimSigning, emailProtection or documentSigning)"
        )


def create_dev_credential(directory: Path, *, label: str = "") -> DevCredential:
    """Create (once) a development CA and leaf under ``directory``, and return them.

    Idempotent: existing files are reused, so restarts keep signing with the same key and
    files signed earlier stay verifiable. ``label`` distinguishes several dev CAs (tests).
    Safe across processes: gunicorn's workers all start here, and without the lock two of them
    could each write a key and a chain and pair one's chain with the other's key.
    """
    directory.mkdir(parents=True, exist_ok=True)
    paths = (directory / DEV_CA_FILE, directory / DEV_CHAIN_FILE, directory / DEV_KEY_FILE)
    ca_path, chain_path, key_path = paths
    with exclusive_lock(directory / ".lock"):
        if not all(path.exists() for path in paths):
            _write_dev_files(ca_path=ca_path, chain_path=chain_path, key_path=key_path, label=label)
        (directory / DEV_MARKER).write_text(
            "These C2PA keys were generated for development. Never use them in production.\n"
        )
    return DevCredential(
        directory=directory,
        ca_path=ca_path,
        chain_path=chain_path,
        key_path=key_path,
        credential=load_credential(cert_chain=chain_path, private_key=key_path),
    )


def _write_dev_files(*, ca_path: Path, chain_path: Path, key_path: Path, label: str) -> None:
    now = dt.datetime.now(dt.UTC) - _BACKDATE
    suffix = f" {label}".rstrip()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"Consent Registry DEVELOPMENT ONLY Root CA{suffix}")
    ca_cert = _dev_ca_cert(ca_key=ca_key, name=ca_name, now=now)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_name = _name(f"Consent Registry DEVELOPMENT ONLY C2PA Signer{suffix}")
    leaf_cert = _dev_leaf_cert(
        leaf_key=leaf_key, name=leaf_name, ca_key=ca_key, ca_cert=ca_cert, now=now
    )
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    leaf_pem = leaf_cert.public_bytes(serialization.Encoding.PEM)
    key_pem = leaf_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # The key is created with 0600 from the start: a chmod afterwards leaves a window.
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as key_file:
        key_file.write(key_pem)
    os.chmod(key_path, 0o600)  # O_CREAT honours the umask only for new files
    chain_path.write_bytes(leaf_pem + ca_pem)
    ca_path.write_bytes(ca_pem)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _DEV_ORG),
        ]
    )


def _dev_ca_cert(
    *, ca_key: ec.EllipticCurvePrivateKey, name: x509.Name, now: dt.datetime
) -> x509.Certificate:
    public = ca_key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def _dev_leaf_cert(
    *,
    leaf_key: ec.EllipticCurvePrivateKey,
    name: x509.Name,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    now: dt.datetime,
) -> x509.Certificate:
    public = leaf_key.public_key()
    ekus = [C2PA_CLAIM_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING]
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca_cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _LEAF_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
