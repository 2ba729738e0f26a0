"""Errors of verification requests."""

from __future__ import annotations

from registry.errors import Unauthorized


class VerificationNeedsLogin(Unauthorized):
    slug = "verification-needs-login"
    title = "Anonymous verification is turned off here"
