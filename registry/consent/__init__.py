"""Subjects, consent grants, consent tokens and grant policy."""
