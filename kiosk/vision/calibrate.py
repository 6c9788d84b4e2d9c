"""Match thresholds from the field evaluation, checked on people held out of the choice.

The rule (docs/decision-policy.md): ``match_medium`` = the highest impostor score seen under
any field condition plus a margin for faces never seen; ``match_high`` = ``match_medium``
plus a small gap, so a probable match (MEDIUM) goes to the portal rather than verifying.
The rule is applied to k-1 folds of *people* and judged on the held-out fold.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

MARGIN = 0.03  # above the top impostor: room for faces the calibration never saw
GAP = 0.02  # match_high above match_medium: the MEDIUM band sends probable matches to review
FOLDS = 3


class _Probe(Protocol):
    person: str
    index: int
    embedding: np.ndarray | None


class _Ref(Protocol):
    person: str
    index: int
    reference: np.ndarray | None


@dataclass(frozen=True)
class Thresholds:
    """A (match_medium, match_high) pair chosen by the rule."""

    medium: float
    high: float


def choose(top_impostor: float, margin: float = MARGIN, gap: float = GAP) -> Thresholds:
    """The rule: medium = top impostor + ``margin`` to the nearest 0.01; high ``gap`` above."""
    medium = round(top_impostor + margin, 2)
    return Thresholds(medium, round(medium + gap, 2))


def _scores(
    probes: Sequence[_Probe], refs: Sequence[_Ref], probe_people: set[str]
) -> tuple[list[float], list[float], int]:
    gen: list[float] = []
    imp: list[float] = []
    n_gen = 0
    for p in probes:
        if p.person not in probe_people:
            continue
        for r in refs:
            if r.index == p.index or r.reference is None:
                continue
            same = r.person == p.person
            n_gen += same
            if p.embedding is not None:
                (gen if same else imp).append(float(np.dot(p.embedding, r.reference)))
    return gen, imp, n_gen


def held_out(
    by_condition: Mapping[str, Sequence[_Probe]], refs: Sequence[_Ref], folds: int = FOLDS
) -> dict[str, Any]:
    """Choose thresholds on k-1 folds of people, judge them on the held-out fold.

    Held-out pairs are held-out probes against every clean reference: none of these pairs
    was used to choose the thresholds.
    """
    people = sorted({r.person for r in refs})
    out: list[dict[str, Any]] = []
    for f in range(folds):
        test = {p for i, p in enumerate(people) if i % folds == f}
        train = set(people) - test
        tops = [max(_scores(ps, refs, train)[1], default=-1.0) for ps in by_condition.values()]
        t = choose(max(tops))
        per: dict[str, dict[str, float | int]] = {}
        for name, ps in by_condition.items():
            gen, imp, n_gen = _scores(ps, refs, test)
            g, i = np.array(gen), np.array(imp)
            per[name] = {
                "false_matches": int(np.sum(i >= t.medium)),
                "impostor_pairs": int(i.size),
                "verified": float(np.sum(g >= t.high)) / n_gen if n_gen else math.nan,
                "matched": float(np.sum(g >= t.medium)) / n_gen if n_gen else math.nan,
            }
        out.append(
            {"held_out_people": sorted(test), "medium": t.medium, "high": t.high, "conditions": per}
        )
    tops_all = [
        max(_scores(ps, refs, set(people))[1], default=-1.0) for ps in by_condition.values()
    ]
    final = choose(max(tops_all))
    return {
        "rule": f"medium = top impostor + {MARGIN} (to 0.01), high = medium + {GAP}",
        "folds": out,
        "top_impostor": max(tops_all),
        "match_medium": final.medium,
        "match_high": final.high,
    }
