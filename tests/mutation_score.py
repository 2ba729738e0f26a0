"""Per-module mutation scores from a finished ``mutmut run`` (``make mutation`` calls this).

Run from the directory that holds ``mutants/``. Prints, for each measured module, its mutants,
how many were killed (a timeout counts as killed), survived, had no test, and the killed
percentage of the mutants that are not known to be equivalent. ``--survivors`` also prints the
diff of every surviving mutant.

An equivalent mutant cannot change behaviour, so no test can kill it. Each is listed below by
its module, function and the mutated line (not by mutmut's number, which shifts when the file
changes), with the reason it is equivalent. Survivors of a run on SQLite alone in the
PostgreSQL-only paths (the audit chain's advisory lock, signing's FOR SHARE) are not equivalents:
with REGISTRY_TEST_DATABASE_URL set the database tests also run on PostgreSQL and kill them.
``--check`` exits 1 when a module is below the target.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

MODULES = (
    "registry/consent/policy.py",
    "registry/consent/scope.py",
    "registry/media/authorization.py",
    "registry/verification/consent_checks.py",
    "registry/verification/checks.py",
    "registry/audit/services.py",
)
TARGET = 90.0

KILLED = {1, 3, -24, 24, 36, 152, 255}  # a failing test, or a timeout (SIGXCPU)
SURVIVED = {0}
NO_TESTS = {5, 33}


@dataclass(frozen=True)
class Equivalent:
    module: str
    function: str
    removed: tuple[str, ...]  # the diff's lines, stripped
    added: tuple[str, ...]
    reason: str


_LOCK_SQL = 'session.execute(sa.text("{}"), {{"k": key}})'
_NOT_A_UUID = "a claim without grant_id gives '', 'None' or 'XXXX': none is a UUID, all dropped"
_NO_MATCH = "a grant's territories are strings: a value that is not one is never among them"
EQUIVALENT: tuple[Equivalent, ...] = (
    Equivalent(
        "registry/audit/services.py",
        "record_event",
        (".limit(1)",),
        (".limit(None)",),
        "first() reads only the newest row of the seq-descending query; LIMIT saves fetching",
    ),
    Equivalent(
        "registry/audit/services.py",
        "record_event",
        (".limit(1)",),
        (".limit(2)",),
        "first() reads only the newest row of the seq-descending query; LIMIT saves fetching",
    ),
    Equivalent(
        "registry/audit/services.py",
        "record_event",
        ('hash="",',),
        ("hash=None,",),
        "the placeholder is replaced by the digest before the event is added",
    ),
    Equivalent(
        "registry/audit/services.py",
        "record_event",
        ('hash="",',),
        ('hash="XXXX",',),
        "the placeholder is replaced by the digest before the event is added",
    ),
    Equivalent(
        "registry/audit/services.py",
        "record_event",
        ('hash="",', ")"),
        (")",),
        "the placeholder is replaced by the digest before the event is added",
    ),
    Equivalent(
        "registry/audit/services.py",
        "_events",
        (".execution_options(yield_per=1000)",),
        (".execution_options(yield_per=None)",),
        "yield_per sets how many rows a fetch brings, not which rows or their order",
    ),
    Equivalent(
        "registry/audit/services.py",
        "_events",
        (".execution_options(yield_per=1000)",),
        (".execution_options(yield_per=1001)",),
        "yield_per sets how many rows a fetch brings, not which rows or their order",
    ),
    Equivalent(
        "registry/audit/services.py",
        "_lock_chain",
        (_LOCK_SQL.format("SELECT pg_advisory_xact_lock(:k)"),),
        (_LOCK_SQL.format("select pg_advisory_xact_lock(:k)"),),
        "SQL keywords and unquoted function names are case-insensitive",
    ),
    Equivalent(
        "registry/verification/consent_checks.py",
        "cited_grants",
        ('ids = {str(claim.get("grant_id", "")) for claim in claims}',),
        ('ids = {str(claim.get("grant_id", None)) for claim in claims}',),
        _NOT_A_UUID,
    ),
    Equivalent(
        "registry/verification/consent_checks.py",
        "cited_grants",
        ('ids = {str(claim.get("grant_id", "")) for claim in claims}',),
        ('ids = {str(claim.get("grant_id", )) for claim in claims}',),
        _NOT_A_UUID,
    ),
    Equivalent(
        "registry/verification/consent_checks.py",
        "cited_grants",
        ('ids = {str(claim.get("grant_id", "")) for claim in claims}',),
        ('ids = {str(claim.get("grant_id", "XXXX")) for claim in claims}',),
        _NOT_A_UUID,
    ),
    Equivalent(
        "registry/verification/consent_checks.py",
        "_claimed_use",
        ("territory=territory if isinstance(territory, str) else None,",),
        ("territory=territory if (isinstance(territory, str)) or True else None,",),
        _NO_MATCH + " (and '*' covers any): the gap, all a verdict shows, is the same",
    ),
)


@dataclass
class Score:
    module: str
    mutants: int = 0
    killed: int = 0
    survived: int = 0
    no_tests: int = 0
    other: int = 0
    equivalent: int = 0

    @property
    def percent(self) -> float:
        counted = self.mutants - self.equivalent
        return 100.0 * self.killed / counted if counted else 100.0


def _function(key: str) -> str:
    """``registry.consent.scope.x_scope_gap__mutmut_3`` -> ``scope_gap``."""
    mangled = key.rpartition(".")[2].partition("__mutmut_")[0]
    return mangled.rpartition("ǁ")[2] if "ǁ" in mangled else mangled.removeprefix("x_")


def _diff(key: str, path: str) -> str:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    return get_diff_for_mutant(key, path=path)


def _changed_lines(diff: str, sign: str) -> tuple[str, ...]:
    return tuple(
        line[1:].strip()
        for line in diff.splitlines()
        if line.startswith(sign) and not line.startswith(sign * 3)
    )


def _equivalent(module: str, key: str, diff: str) -> Equivalent | None:
    function = _function(key)
    removed, added = _changed_lines(diff, "-"), _changed_lines(diff, "+")
    for known in EQUIVALENT:
        if (known.module, known.function, known.removed, known.added) == (
            module,
            function,
            removed,
            added,
        ):
            return known
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survivors", action="store_true", help="print each survivor's diff")
    parser.add_argument("--check", action="store_true", help=f"exit 1 below {TARGET:.0f} %%")
    args = parser.parse_args()

    scores, survivors = [], []
    for path in MODULES:
        meta = Path("mutants") / f"{path}.meta"
        if not meta.exists():
            print(f"no results for {path} (run mutmut first)", file=sys.stderr)
            return 2
        score = Score(path)
        for key, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            score.mutants += 1
            if code in KILLED:
                score.killed += 1
            elif code in SURVIVED:
                score.survived += 1
                diff = _diff(key, path)
                known = _equivalent(path, key, diff)
                if known:
                    score.equivalent += 1
                survivors.append((key, diff, known))
            elif code in NO_TESTS:
                score.no_tests += 1
            else:
                score.other += 1
        scores.append(score)

    header = f"{'module':42} {'mutants':>7} {'killed':>6} {'survived':>8} {'equiv':>5}"
    header += f" {'no-test':>7} {'other':>5} {'killed %':>8}"
    print(header)
    for s in scores:
        print(
            f"{s.module:42} {s.mutants:7} {s.killed:6} {s.survived:8} {s.equivalent:5}"
            f" {s.no_tests:7} {s.other:5} {s.percent:7.1f}%"
        )
    print("killed % = killed / (mutants - equivalent); a timeout counts as killed")

    unexplained = [(k, d) for k, d, known in survivors if known is None]
    if args.survivors:
        for key, diff, known in survivors:
            note = f"  [equivalent: {known.reason}]" if known else ""
            print(f"\n# {key}{note}\n{diff}")
    elif unexplained:
        print(f"\n{len(unexplained)} survivors not known to be equivalent:")
        for key, _ in unexplained:
            print(f"  {key}")
    if args.check and any(s.percent < TARGET for s in scores):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
