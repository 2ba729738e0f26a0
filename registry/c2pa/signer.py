"""Native c2pa signers made from the registry's credentials (``registry.keys``).

A credential is plain data: a PEM chain and either a PEM key or a callback that signs (KMS).
A ``c2pa.Signer`` is made from it for each signing. c2pa-python 0.38 does let threads share
one (signing takes a shared borrow of it), but a fresh one costs ~0.3 ms, while a shared one
would break across gunicorn's fork (c2pa refuses objects made in another process), be
consumed if ever handed to a ``Context``, and outlive a credential rotation.
"""

from __future__ import annotations

import c2pa

from registry.keys.c2pa_credential import C2paCredential, SigningCredentialError
from registry.keys.kms import KmsCredential


def make_signer(credential: C2paCredential) -> c2pa.Signer:
    """A fresh native signer for one signing (the caller closes it); c2pa errors converted."""
    try:
        if isinstance(credential, KmsCredential):
            return c2pa.Signer.from_callback(
                credential.sign_digest_of,
                c2pa.C2paSigningAlg.ES256,
                credential.cert_chain_pem.decode("ascii"),
                credential.tsa_url,
            )
        info = c2pa.C2paSignerInfo(
            credential.alg.encode(),
            credential.cert_chain_pem,
            credential.private_key_pem,
            credential.tsa_url.encode() if credential.tsa_url else None,
        )
        return c2pa.Signer.from_info(info)
    except (c2pa.C2paError, ValueError, TypeError) as exc:
        raise SigningCredentialError(f"c2pa rejected the signing credential: {exc}") from exc
