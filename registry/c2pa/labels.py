"""The names the registry's manifests use: assertion labels and vocabulary URIs.

Signing writes them (``media.manifest``, ``provenance.softbinding``) and verification reads
them (``verification``, ``provenance.recovery``); this module is the one place all take them
from.
"""

from __future__ import annotations

# c2pa 0.38 writes "c2pa.actions.v2" for an assertion defined as "c2pa.actions".
ACTIONS_LABEL = "c2pa.actions"
ACTIONS_LABELS = ("c2pa.actions.v2", ACTIONS_LABEL)
# The registry's own assertions, in its reverse-DNS namespace.
CONSENT_LABEL = "org.consentregistry.consent"
DISCLOSURE_LABEL = "org.consentregistry.disclosure"
# The generator's public inventory facts and the people's contributions (records.manifest).
CREATION_LABEL = "org.consentregistry.creation"
# CAWG training and data mining preferences, and the entries the registry states.
TRAINING_LABEL = "cawg.training-mining"
TRAINING_ENTRIES = (
    "cawg.ai_generative_training",
    "cawg.ai_training",
    "cawg.data_mining",
    "cawg.ai_inference",
)
# C2PA soft bindings ("durable content credentials"): fingerprints and watermarks of the
# content, and the action stating that a watermark was embedded (``provenance.softbinding``).
SOFT_BINDING_LABEL = "c2pa.soft-binding"
WATERMARKED_ACTION = "c2pa.watermarked"
# IPTC digital source types: the prefix of every ``digitalSourceType`` URI.
IPTC_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
# Augmentation or correction by people with non-generative tools (the people's actions).
HUMAN_EDITS = "humanEdits"
# The action each human contribution is recorded as (``records.manifest``).
EDITED_ACTION = "c2pa.edited"
