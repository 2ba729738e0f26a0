"""Standard Webhooks signatures (``standardwebhooks``, the specification's reference library).

Secrets are ``whsec_`` + base64 of 32 random bytes; the signature header holds ``v1,<base64
HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`` for each secret in force (after a
rotation, the previous one too for a while).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def message_id(event_id: str) -> str:
    """The ``webhook-id`` of an event: the same on every attempt and to every endpoint."""
    return f"msg_{event_id}"


def signed_headers(keys: Sequence[str], *, msg_id: str, at: datetime, body: str) -> dict[str, str]:
    """The three ``webhook-*`` headers for ``body`` sent at ``at``, signed with every key."""
    signatures = " ".join(Webhook(key).sign(msg_id=msg_id, timestamp=at, data=body) for key in keys)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
    }
