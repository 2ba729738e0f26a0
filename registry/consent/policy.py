"""Grant policy: what the registry refuses to sign, each refusal with its own problem type."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from registry.consent import errors
from registry.consent.models import Subject
from registry.consent.schemas import GrantTerms
from registry.consent.vocabulary import (
    MEDIA_TYPES,
    MODALITIES,
    OPERATIONS,
    TRAINING_OPERATIONS,
    is_territory,
)

MIN_DESCRIPTION_LENGTH = 20
# Boilerplate that consents to everything (the wording AB 2602 and NY GOL 5-302 void).
BLANKET_WORDING = re.compile(
    r"now known or here(?:after|inafter) (?:devised|invented|developed|created)"
    r"|here(?:after|inafter) (?:devised|invented|developed)"
    r"|any and all (?:media|uses?|purposes?|formats?)"
    r"|all (?:media|formats|purposes|uses)\b"
    r"|any (?:purpose|use) whatsoever"
    r"|throughout the universe"
    r"|in perpetuity"
    r"|(?:unlimited|unrestricted) (?:use|purposes?)",
    re.IGNORECASE,
)


def check_policy(terms: GrantTerms, subject: Subject) -> None:
    """Raise the first policy violation of ``terms`` for ``subject``."""
    _check_vocabulary(terms)
    _check_descriptions(terms)
    if terms.valid_until <= terms.valid_from:
        raise errors.InvalidPeriod("valid_until must be later than valid_from")
    _check_training(terms)
    _check_grantor(terms, subject)


def _unknown(values: list[str], known: tuple[str, ...]) -> list[str]:
    return sorted(set(values) - set(known))


def _check_vocabulary(terms: GrantTerms) -> None:
    for values, known, error in (
        (terms.modalities, MODALITIES, errors.UnknownModality),
        (terms.operations, OPERATIONS, errors.UnknownOperation),
        (terms.media_types, MEDIA_TYPES, errors.UnknownMediaType),
    ):
        unknown = _unknown(values, known)
        if unknown:
            raise error(
                f"unknown: {', '.join(unknown)}; allowed: {', '.join(known)}",
                unknown=unknown,
                allowed=list(known),
            )
    bad = sorted(t for t in set(terms.territories) if not is_territory(t))
    if bad:
        raise errors.UnknownTerritory(
            f"not ISO 3166-1 alpha-2 codes: {', '.join(bad)} (use * for worldwide)", unknown=bad
        )


def _check_descriptions(terms: GrantTerms) -> None:
    for index, purpose in enumerate(terms.purposes):
        text = " ".join(purpose.description.split())
        if len(text) < MIN_DESCRIPTION_LENGTH:
            raise errors.DescriptionNotSpecific(
                f"purposes[{index}].description must say what the use is "
                f"(at least {MIN_DESCRIPTION_LENGTH} characters)",
                purpose=index,
            )
        match = BLANKET_WORDING.search(text)
        if match:
            raise errors.DescriptionNotSpecific(
                f"purposes[{index}].description uses blanket wording ({match.group(0)!r}); "
                "name the project and the use",
                purpose=index,
            )


def _check_training(terms: GrantTerms) -> None:
    wanted = sorted(TRAINING_OPERATIONS & set(terms.operations))
    if not wanted:
        return
    if terms.training is None:
        raise errors.TrainingTermRequired(
            f"operations {', '.join(wanted)} need an explicit training term "
            "(allowed or constrained)"
        )
    if terms.training == "not_allowed":
        raise errors.TrainingTermRequired(
            f"operations {', '.join(wanted)} contradict training: not_allowed"
        )


def eighteenth_birthday(born: date) -> datetime:
    try:
        day = born.replace(year=born.year + 18)
    except ValueError:  # born on 29 February
        day = date(born.year + 18, 3, 1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def is_minor(subject: Subject, at: datetime) -> bool:
    return subject.date_of_birth is not None and at < eighteenth_birthday(subject.date_of_birth)


def _check_grantor(terms: GrantTerms, subject: Subject) -> None:
    role = terms.granted_by.role
    if subject.status == "deceased":
        if role not in ("estate", "authorized_representative"):
            raise errors.DeceasedRequiresAuthority(
                "a deceased person's grant must be given by their estate or an authorized "
                "representative"
            )
        if not terms.granted_by.authority_evidence:
            raise errors.DeceasedRequiresAuthority(
                "granted_by.authority_evidence must show the grantor's authority"
            )
        return
    if is_minor(subject, terms.valid_from):
        if role != "guardian":
            raise errors.MinorRequiresGuardian(
                "the subject is a minor: granted_by.role must be guardian"
            )
        majority = eighteenth_birthday(subject.date_of_birth)  # type: ignore[arg-type]
        if terms.valid_until > majority:
            raise errors.MinorPastMajority(
                f"valid_until must be no later than the 18th birthday ({majority.date()})",
                latest_valid_until=majority.isoformat(),
            )
        return
    if role in ("guardian", "estate"):
        raise errors.GrantorNotAuthorized(
            f"a living adult consents for themselves; granted_by.role {role!r} is not allowed"
        )
