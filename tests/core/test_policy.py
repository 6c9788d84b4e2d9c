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
    policy_from_rows,
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
    ("id_card", "MEDIUM", "live", Outcome.PENDING),
    ("id_card", "LOW", "live", Outcome.PENDING),
    ("id_card", "NONE", "live", Outcome.PENDING),
    ("id_card", "HIGH", "spoof", Outcome.REJECTED),
    ("online", "HIGH", "uncertain", Outcome.RETRY),
    ("online", "NONE", "live", Outcome.RETRY),
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


# One example per row of the default table, in row order: (source, match, liveness) -> outcome.
# docs/decision-policy.md documents the same rows; a change to the table must change both.
ROW_EXAMPLES = [
    (("online", "HIGH", "spoof"), Outcome.REJECTED),
    (("village_set", "HIGH", "uncertain"), Outcome.RETRY),
    (("village_set", "HIGH", "live"), Outcome.VERIFIED),
    (("online", "HIGH", "live"), Outcome.VERIFIED),
    (("village_set", "MEDIUM", "live"), Outcome.PENDING),
    (("online", "MEDIUM", "live"), Outcome.PENDING),
    (("village_set", "LOW", "live"), Outcome.RETRY),
    (("online", "NONE", "live"), Outcome.RETRY),
    (("id_card", "HIGH", "live"), Outcome.PENDING),
    (("id_card", "MEDIUM", "live"), Outcome.PENDING),
    (("id_card", "NONE", "live"), Outcome.PENDING),
    (("none", "-", "live"), Outcome.PENDING),
    (("none", "HIGH", "live"), Outcome.RETRY),
]


@pytest.mark.parametrize("index", range(len(ROW_EXAMPLES)))
def test_each_default_row_by_example(index: int) -> None:
    (source, match, liveness), outcome = ROW_EXAMPLES[index]
    policy = DecisionPolicy()
    first = next(i for i, r in enumerate(policy.rules) if r.matches(source, match, liveness))
    assert first == index, "the example must be decided by its own row"
    assert policy.decide(source, match, liveness) == (outcome, policy.rules[index].why)


def test_examples_cover_the_whole_table() -> None:
    assert len(ROW_EXAMPLES) == len(DEFAULT_RULES)


def test_id_card_is_never_sole_proof() -> None:
    policy = DecisionPolicy()
    for m, lv in itertools.product(MATCH_BANDS, LIVENESS_BANDS):
        assert policy.decide("id_card", m, lv)[0] is not Outcome.VERIFIED


def test_only_a_high_match_on_a_trusted_reference_verifies() -> None:
    policy = DecisionPolicy()
    verified = {
        (s, m, lv)
        for s, m, lv in itertools.product(SOURCES, MATCH_BANDS, LIVENESS_BANDS)
        if policy.decide(s, m, lv)[0] is Outcome.VERIFIED
    }
    assert verified == {("village_set", "HIGH", "live"), ("online", "HIGH", "live")}


def test_policy_from_rows_defaults_when_empty() -> None:
    assert policy_from_rows([]).rules == DEFAULT_RULES
    strict = policy_from_rows(
        [{"source": "*", "match": "*", "liveness": "*", "outcome": "pending", "why": "all"}]
    )
    assert strict.decide("village_set", "HIGH", "live")[0] is Outcome.PENDING


def test_config_policy_rows_are_checked_when_the_config_loads() -> None:
    from kiosk.config import parse_config
    from kiosk.errors import ConfigError

    rows = [{"source": "*", "match": "*", "liveness": "*", "outcome": "pending", "why": "x"}]
    assert parse_config({"biometrics": {"policy": rows}}).biometrics.policy == rows
    assert parse_config({}).biometrics.policy == []
    with pytest.raises(ConfigError) as err:
        parse_config(
            {
                "biometrics": {
                    "policy": [
                        {
                            "source": "village_set",
                            "match": "HIGH",
                            "liveness": "live",
                            "outcome": "verified",
                        }
                    ]
                }
            }
        )
    assert "no rule for" in err.value.problems[0]
    with pytest.raises(ConfigError) as err:
        parse_config(
            {
                "biometrics": {
                    "policy": [
                        {"source": "moon", "match": "*", "liveness": "*", "outcome": "pending"}
                    ]
                }
            }
        )
    assert "unknown source 'moon'" in err.value.problems[0]
