"""Verification: is a file labelled, is the label intact and trusted, is its consent in force."""
