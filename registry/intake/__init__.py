"""Receiving files: spooling and hashing, upload parsing, sniffing, fetching bucket objects.

Signing and verification both receive files through this package; ``Intake`` holds where
uploads are spooled and how large they may be.
"""
