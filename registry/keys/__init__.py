"""Signing credentials: dev CA generation, PEM files, KMS callback signer."""
