"""Signing media where it lives: the registry authorizes the use and signs the claim only."""
