"""Decision policy table: every row, completeness and config overrides."""

from __future__ import annotations

import itertools

import pytest

from kiosk.core.policy import (
    DEFAULT_RULES,
    LIVENESS_BANDS,
    MATCH_BANDS,
    SOURCES,
    DecisionPolicy,
)
from kiosk.core.session import Outcome

EXPECTED = [
    ("village_set", "HIGH", "live", Outcome.VERIFIED),
    ("online", "HIGH", "live", Outcome.VERIFIED),
    ("village_set", "MEDIUM", "live", Outcome.PENDING),
    ("online", "MEDIUM", "live", Outcome.PENDING),
    ("village_set", "LOW", "live", Outcome.RETRY),
    ("village_set", "NONE", "live", Outcome.RETRY),
    ("online", "LOW", "live", Outcome.RETRY),
    ("id_card", "HIGH", "live", Outcome.PENDING),
    ("id_card", "LOW", "live", Outcome.PENDING),
    ("none", None, "live", Outcome.PENDING),
    ("village_set", "HIGH", "spoof", Outcome.REJECTED),
    ("none", None, "spoof", Outcome.REJECTED),
    ("village_set", "HIGH", "uncertain", Outcome.RETRY),
    ("none", None, "uncertain", Outcome.RETRY),
    ("none", "HIGH", "live", Outcome.RETRY),
]


@pytest.mark.parametrize(("source", "match", "liveness", "outcome"), EXPECTED)
def test_default_table_rows(
    source: str, match: str | None, liveness: str, outcome: Outcome
) -> None:
    got, why = DecisionPolicy().decide(source, match, liveness)
    assert got is outcome
    assert why


def test_every_row_is_reachable() -> None:
    policy = DecisionPolicy()
    hit = set()
    for s, m, lv in itertools.product(SOURCES, MATCH_BANDS, LIVENESS_BANDS):
        for i, rule in enumerate(policy.rules):
            if rule.matches(s, m, lv):
                hit.add(i)
                break
    assert hit == set(range(len(DEFAULT_RULES)))


def test_spoof_is_never_verified() -> None:
    policy = DecisionPolicy()
    for s, m in itertools.product(SOURCES, MATCH_BANDS):
        assert policy.decide(s, m, "spoof")[0] is Outcome.REJECTED


def test_incomplete_table_is_refused() -> None:
    with pytest.raises(ValueError, match="no rule for"):
        DecisionPolicy.from_rows(
            [{"source": "village_set", "match": "HIGH", "liveness": "live", "outcome": "verified"}]
        )


def test_config_rows_override_defaults() -> None:
    rows = [
        {"source": "*", "match": "*", "liveness": "spoof", "outcome": "rejected"},
        {"source": "*", "match": "*", "liveness": "*", "outcome": "pending", "why": "strict"},
    ]
    policy = DecisionPolicy.from_rows(rows)
    assert policy.decide("village_set", "HIGH", "live") == (Outcome.PENDING, "strict")


@pytest.mark.parametrize(
    "row",
    [
        {"source": "moon", "match": "*", "liveness": "*", "outcome": "pending"},
        {"source": "*", "match": "SUPER", "liveness": "*", "outcome": "pending"},
        {"source": "*", "match": "*", "liveness": "zombie", "outcome": "pending"},
        {"source": "*", "match": "*", "liveness": "*", "outcome": "maybe"},
        {"source": "*", "match": "*"},
    ],
)
def test_bad_rows_are_refused_with_reason(row: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        DecisionPolicy.from_rows([row])
