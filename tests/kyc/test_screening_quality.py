"""Precision and recall of the name score on a labelled set of name pairs
(tests/kyc/data/name_pairs.json: 205 same-person pairs across exact, reordered, homoglyph,
zero-width, initials, typo, list-style, diacritics, transliterated, umlaut, joined/split,
missing-middle-name, fullwidth and romanisation variants; 106 different-person pairs).

At the review threshold (possible match) nothing listed may slip through; at the hit threshold
(before birth date and nationality are weighed) no different person may be rejected.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kyc.screening import ScreeningConfig, name_score

PAIRS = json.loads((Path(__file__).parent / "data" / "name_pairs.json").read_text())["pairs"]


def _confusion(threshold: float) -> tuple[int, int, int, int]:
    tp = fp = fn = tn = 0
    for pair in PAIRS:
        predicted = name_score(pair["query"], pair["listed"]) >= threshold
        if predicted and pair["match"]:
            tp += 1
        elif predicted:
            fp += 1
        elif pair["match"]:
            fn += 1
        else:
            tn += 1
    return tp, fp, fn, tn


def test_the_labelled_set_is_large_enough() -> None:
    assert len(PAIRS) >= 200
    assert sum(p["match"] for p in PAIRS) >= 100
    assert sum(not p["match"] for p in PAIRS) >= 100


@pytest.mark.parametrize(
    "threshold,min_precision,min_recall",
    [
        (ScreeningConfig().review_threshold, 0.90, 1.0),
        (ScreeningConfig().hit_threshold, 1.0, 0.95),
    ],
    ids=["review_threshold", "hit_threshold"],
)
def test_precision_and_recall(threshold: float, min_precision: float, min_recall: float) -> None:
    tp, fp, fn, _ = _confusion(threshold)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision >= min_precision, (precision, recall)
    assert recall >= min_recall, (precision, recall)
