"""API shapes of invitations (the studio's side of the portal)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

EmailAddress = Annotated[
    str, Field(max_length=254, pattern=r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
]


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    email: EmailAddress | None = Field(
        default=None,
        description="Send the link to this address through the registry's SMTP server "
        "(the address is not stored)",
    )
    expires_in_hours: Annotated[int, Field(ge=1, le=720)] | None = Field(
        default=None, description="Default REGISTRY_INVITATION_TTL_HOURS (72)"
    )


class InvitationPublic(BaseModel):
    id: str
    subject_id: str
    url: str = Field(description="The single-use link; shown once, only its hash is kept")
    expires_at: datetime
    emailed: bool
