"""The names the registry's manifests use: assertion labels and vocabulary URIs.

Signing writes them (``media.manifest``) and verification reads them (``verification``); this
module is the one place both take them from.
"""

from __future__ import annotations

# c2pa 0.38 writes "c2pa.actions.v2" for an assertion defined as "c2pa.actions".
ACTIONS_LABEL = "c2pa.actions"
ACTIONS_LABELS = ("c2pa.actions.v2", ACTIONS_LABEL)
# The registry's own assertions, in its reverse-DNS namespace.
CONSENT_LABEL = "org.consentregistry.consent"
DISCLOSURE_LABEL = "org.consentregistry.disclosure"
# CAWG training and data mining preferences, and the entries the registry states.
TRAINING_LABEL = "cawg.training-mining"
TRAINING_ENTRIES = (
    "cawg.ai_generative_training",
    "cawg.ai_training",
    "cawg.data_mining",
    "cawg.ai_inference",
)
# IPTC digital source types: the prefix of every ``digitalSourceType`` URI.
IPTC_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
