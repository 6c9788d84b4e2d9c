"""The decision policy: from (reference source, match band, liveness band) to an outcome.

A declarative table, documented in docs/decision-policy.md and overridable from config. The
first matching row wins; ``*`` matches anything. The policy never turns a person away: the
worst outcome is RETRY, and after the retry budget the flow offers an agent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kiosk.core.session import Outcome

SOURCES = ("village_set", "online", "none", "id_card")
MATCH_BANDS = ("HIGH", "MEDIUM", "LOW", "NONE", "-")
LIVENESS_BANDS = ("live", "uncertain", "spoof")


@dataclass(frozen=True)
class Rule:
    """One row of the policy table."""

    source: str
    match: str
    liveness: str
    outcome: Outcome
    why: str

    def matches(self, source: str, match: str, liveness: str) -> bool:
        """True when this row applies to the given bands."""
        return all(
            want in ("*", have)
            for want, have in (
                (self.source, source),
                (self.match, match),
                (self.liveness, liveness),
            )
        )


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("*", "*", "spoof", Outcome.REJECTED, "a photo or screen is suspected"),
    Rule("*", "*", "uncertain", Outcome.RETRY, "liveness unclear: step-up challenge, try again"),
    Rule("village_set", "HIGH", "live", Outcome.VERIFIED, "matches the village reference"),
    Rule("online", "HIGH", "live", Outcome.VERIFIED, "matches the registry photo"),
    Rule("village_set", "MEDIUM", "live", Outcome.PENDING, "probable match: portal confirms"),
    Rule("online", "MEDIUM", "live", Outcome.PENDING, "probable match: portal confirms"),
    Rule("village_set", "*", "live", Outcome.RETRY, "does not match the reference"),
    Rule("online", "*", "live", Outcome.RETRY, "does not match the registry photo"),
    Rule("id_card", "HIGH", "live", Outcome.PENDING, "ID-card photo agrees: supporting only"),
    Rule("id_card", "MEDIUM", "live", Outcome.PENDING, "ID-card photo agrees: supporting only"),
    Rule(
        "id_card", "*", "live", Outcome.PENDING, "ID-card photo differs or is old: portal reviews"
    ),
    Rule("none", "-", "live", Outcome.PENDING, "no reference here: portal verifies later"),
    Rule("*", "*", "live", Outcome.RETRY, "inconsistent evidence: try again"),
)


class DecisionPolicy:
    """Evaluates the rule table; validated on construction."""

    def __init__(self, rules: Iterable[Rule] = DEFAULT_RULES) -> None:
        self.rules = tuple(rules)
        for rule in self.rules:
            _check(rule.source, (*SOURCES, "*"), "source")
            _check(rule.match, (*MATCH_BANDS, "*"), "match band")
            _check(rule.liveness, (*LIVENESS_BANDS, "*"), "liveness band")
        # Every combination must be decided: no person may fall through the table.
        for source in SOURCES:
            for match in MATCH_BANDS:
                for liveness in LIVENESS_BANDS:
                    if not any(r.matches(source, match, liveness) for r in self.rules):
                        raise ValueError(
                            f"policy has no rule for source={source} match={match} "
                            f"liveness={liveness}"
                        )

    def decide(self, source: str, match: str | None, liveness: str) -> tuple[Outcome, str]:
        """Outcome and reason for one attempt; ``match`` is None when there is no reference."""
        band = match or "-"
        for rule in self.rules:
            if rule.matches(source, band, liveness):
                return rule.outcome, rule.why
        raise AssertionError("unreachable: the table is complete")  # pragma: no cover

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, str]]) -> DecisionPolicy:
        """Build from config rows ``{source, match, liveness, outcome, why}``."""
        rules = []
        for i, row in enumerate(rows):
            try:
                rules.append(
                    Rule(
                        row["source"],
                        row["match"],
                        row["liveness"],
                        Outcome(row["outcome"]),
                        row.get("why", ""),
                    )
                )
            except (KeyError, ValueError) as err:
                raise ValueError(f"policy row {i + 1}: {err}") from err
        return cls(rules)


def policy_from_rows(rows: Sequence[Mapping[str, str]]) -> DecisionPolicy:
    """The configured policy (``[[biometrics.policy]]`` rows), or the default table if empty."""
    return DecisionPolicy.from_rows(rows) if rows else DecisionPolicy()


def _check(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; allowed: {', '.join(allowed)}")
