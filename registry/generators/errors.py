"""Refusals of the generator inventory, and of signing that cites a generator."""

from __future__ import annotations

from typing import Any

from registry.errors import Conflict, NotFound, RegistryError


class GeneratorNotFound(NotFound):
    slug = "generator-not-found"
    title = "Generator not found"


class GeneratorExists(Conflict):
    slug = "generator-exists"
    title = "The inventory already holds this name and version"


class GeneratorRetired(Conflict):
    slug = "generator-retired"
    title = "The generator is retired"


class GeneratorAlreadyApproved(Conflict):
    slug = "generator-already-approved"
    title = "The generator is approved already"


class GeneratorRefused(RegistryError):
    """Signing cited a generator it may not use (422); ``generator`` says which."""

    status = 422
    slug = "generator-refused"
    title = "The cited generator may not be used"

    def __init__(self, detail: str, *, generator: str, **extensions: Any) -> None:
        super().__init__(detail, generator=generator, reason=self.slug, **extensions)


class CitedGeneratorUnknown(GeneratorRefused):
    slug = "generator-unknown"
    title = "The cited generator is not in the organization's inventory"


class CitedGeneratorNotApproved(GeneratorRefused):
    slug = "generator-not-approved"
    title = "The cited generator has not been approved"


class CitedGeneratorRetired(GeneratorRefused):
    slug = "generator-retired-cited"
    title = "The cited generator is retired"


class CitedGeneratorWrongKind(GeneratorRefused):
    slug = "generator-wrong-kind"
    title = "The cited generator does not produce this kind of media"
