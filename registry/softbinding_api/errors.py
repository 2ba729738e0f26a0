"""Refusals of the Soft Binding Resolution API."""

from __future__ import annotations

from registry.errors import NotFound, RegistryError


class SoftBindingAlgUnsupported(RegistryError):
    """The ``alg`` is not one this registry answers (422); ``supported`` lists those it does."""

    status = 422
    slug = "soft-binding-alg-unsupported"
    title = "The soft-binding algorithm is not supported here"


class SoftBindingValueInvalid(RegistryError):
    """The ``value`` is not base64, or not a soft binding of its ``alg`` (422)."""

    status = 422
    slug = "soft-binding-value-invalid"
    title = "The soft-binding value is not valid for its algorithm"


class ManifestNotFound(NotFound):
    slug = "manifest-not-found"
    title = "No manifest store with this id"
