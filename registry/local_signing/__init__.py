"""Signing media where it lives: the registry authorizes and signs the claim, never sees the bytes."""
