"""Token Status Lists (IETF draft-ietf-oauth-status-list): the format, publishing, offline checks.

``codec`` packs statuses and ``offline`` checks a token against a fetched list; both import
nothing else from the registry, so the Python client uses them as they are. ``models``,
``publish`` and ``views`` serve the registry's own lists; which value a grant's entry holds is
consent's rule (``registry.consent.status_entries``).
"""
