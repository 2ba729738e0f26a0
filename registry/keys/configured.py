"""Choosing the C2PA signing credential and the verifier's trust anchors from settings."""

from __future__ import annotations

from pathlib import Path

from registry.keys.c2pa_credential import (
    DEV_CA_FILE,
    C2paCredential,
    create_dev_credential,
    load_credential,
)
from registry.settings import ConfigurationError, Settings


def _dev_dir(settings: Settings) -> Path:
    return settings.keys_dir / "c2pa"


def load_signing_credential(settings: Settings) -> C2paCredential:
    """KMS key, PEM files, or (development only) the generated development credential."""
    if settings.c2pa_kms_key_id:
        from registry.keys.kms import load_kms_credential

        if not settings.c2pa_cert_chain:
            raise ConfigurationError("REGISTRY_C2PA_KMS_KEY_ID needs REGISTRY_C2PA_CERT_CHAIN")
        return load_kms_credential(
            cert_chain=settings.c2pa_cert_chain,
            key_id=settings.c2pa_kms_key_id,
            tsa_url=settings.c2pa_tsa_url,
        )
    if settings.c2pa_cert_chain and settings.c2pa_private_key:
        return load_credential(
            cert_chain=settings.c2pa_cert_chain,
            private_key=settings.c2pa_private_key,
            tsa_url=settings.c2pa_tsa_url,
        )
    # Settings.check_production has refused production without one of the above.
    return create_dev_credential(_dev_dir(settings)).credential


def trust_anchors(settings: Settings) -> str:
    """PEM roots the verifier trusts: our own CA plus any bundle the operator configures."""
    parts = []
    if settings.c2pa_cert_chain:
        # The last certificate of a configured chain is its root.
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        chain = x509.load_pem_x509_certificates(settings.c2pa_cert_chain.read_bytes())
        parts.append(chain[-1].public_bytes(Encoding.PEM).decode())
    else:
        dev_ca = _dev_dir(settings) / DEV_CA_FILE
        if dev_ca.exists():
            parts.append(dev_ca.read_text())
    if settings.trust_anchors:
        parts.append(settings.trust_anchors.read_text())
    return "\n".join(p.strip() + "\n" for p in parts)
