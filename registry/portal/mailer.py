"""Invitation emails, handed to the configured SMTP server with the standard library."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from registry.portal.errors import InvitationUndeliverable


@dataclass(frozen=True)
class Mailer:
    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0

    def send_invitation(self, *, to: str, studio: str, url: str, expires: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = f"{studio} invites you to review your consent"
        message.set_content(
            f"{studio} has registered consent to use your voice or likeness with the Consent "
            "Registry.\n\nOpen this link to see what was granted in your name, confirm or "
            f"decline it, and withdraw it at any time:\n\n{url}\n\nThe link works once, until "
            f"{expires}. If you did not expect this, you can ignore it.\n"
        )
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username and self.password:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise InvitationUndeliverable(
                f"the mail server refused or could not be reached ({type(exc).__name__})"
            ) from exc
