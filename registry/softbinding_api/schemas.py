"""Requests and answers of the Soft Binding Resolution API, in its own (camelCase) names."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_RESULTS = 100
DEFAULT_RESULTS = 10

Alg = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="A soft-binding algorithm name (C2PA soft-binding algorithm list), one of "
        "GET /services/supportedAlgorithms",
    ),
]
BindingValue = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2048,
        description="Base64 (standard alphabet, padded) of the soft-binding value, in the "
        "algorithm's format: for io.iscc.v0 a binary ISCC unit (header and digest)",
    ),
]
MaxResults = Annotated[
    int, Field(ge=1, le=MAX_RESULTS, description="At most this many matches, best first")
]


class MaxResultsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    maxResults: MaxResults = DEFAULT_RESULTS


class ByBindingQuery(MaxResultsQuery):
    alg: Alg
    value: BindingValue


class ByBindingBody(BaseModel):
    """POST /matches/byBinding: a value too large for a URL."""

    model_config = ConfigDict(extra="forbid", strict=True)

    alg: Alg
    value: BindingValue


class ByContentQuery(MaxResultsQuery):
    alg: Alg | None = Field(
        default=None,
        description="Compute only this algorithm's soft binding of the content (all of them "
        "when absent)",
    )
    hintAlg: Alg | None = Field(default=None, description="Accepted and not used")
    hintValue: BindingValue | None = Field(default=None, description="Accepted and not used")


class ManifestQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    returnActiveManifest: bool = Field(
        default=False,
        description="Accepted: a registered manifest store holds only its active manifest",
    )


class SoftBindingMatch(BaseModel):
    manifestId: str = Field(description="The manifest's label, for GET /manifests/{manifestId}")
    similarityScore: int = Field(
        ge=0, le=100, description="0 (weakest) to 100 (strongest: an exact watermark key)"
    )


class SoftBindingQueryResult(BaseModel):
    matches: list[SoftBindingMatch]


class SoftBindingAlg(BaseModel):
    alg: str


class SupportedAlgorithms(BaseModel):
    watermarks: list[SoftBindingAlg]
    fingerprints: list[SoftBindingAlg]
