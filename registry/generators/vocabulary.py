"""What an inventory entry may say of a generator (training data, risk class, the kinds of media
it produces) and the states an entry goes through: the API's schemas and the CLI's choices read
it here (no import beyond the standard library, so the CLI stays light)."""

from __future__ import annotations

from typing import Literal, get_args

TrainingData = Literal["licensed", "public_domain", "opt_out_respected", "unknown"]
RiskClass = Literal["low", "medium", "high"]
MediaKind = Literal["image", "audio", "video"]
GeneratorState = Literal["pending", "approved", "retired"]

TRAINING_DATA: tuple[str, ...] = get_args(TrainingData)
RISK_CLASSES: tuple[str, ...] = get_args(RiskClass)
MEDIA_KINDS: tuple[str, ...] = get_args(MediaKind)
GENERATOR_STATES: tuple[str, ...] = get_args(GeneratorState)
