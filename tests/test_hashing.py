"""The rubric's own hashed n-grams and TF-IDF equal scikit-learn's, which trained the shipped models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

from eval.rubric.hashing import HashingCounts, Tfidf

SUITES = Path(__file__).resolve().parents[1] / "eval" / "suites"
TEXTS = [json.loads(line)["text"] for line in (SUITES / "blame_train.jsonl").read_text().splitlines()] + [
    "", "?!", "Naïve CAFÉ — résumé…", "a  b\t\tc\n\nd", "I'm sorry?! Really??", "x" * 40, "日本語 テキスト",
]
# The three vectorizers the shipped models use (eval/rubric/empathy.py and blame.py).
CASES = {
    "empathy words": dict(ngram_range=(1, 3), n_features=2**17, token_pattern=r"(?u)\b\w+\b|\?"),
    "empathy chars": dict(analyzer="char_wb", ngram_range=(2, 5), n_features=2**17),
    "blame words": dict(ngram_range=(1, 2), n_features=2**16, token_pattern=r"(?u)\b\w+\b|[?!]"),
}


def sklearn_counts(options: dict, texts: list[str]):
    return HashingVectorizer(alternate_sign=False, norm=None, **options).transform(texts)


@pytest.mark.parametrize("case", CASES)
def test_counts_equal_sklearn_on_the_labelled_turns(case):
    options = CASES[case]
    ours, theirs = HashingCounts(**options).transform(TEXTS), sklearn_counts(options, TEXTS)
    assert ours.shape == theirs.shape
    assert abs(ours - theirs).max() == 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=80), min_size=1, max_size=4))
def test_counts_equal_sklearn_on_any_text(texts):
    for options in CASES.values():
        assert abs(HashingCounts(**options).transform(texts) - sklearn_counts(options, texts)).max() == 0


def test_tfidf_equals_sklearn_with_the_idf_it_learned():
    options = CASES["blame words"]
    counts = HashingCounts(**options).transform(TEXTS)
    fitted = TfidfTransformer(sublinear_tf=True).fit(counts)
    ours, theirs = Tfidf(fitted.idf_).transform(counts), fitted.transform(counts)
    assert np.allclose(ours.toarray(), theirs.toarray(), atol=1e-12)
    assert np.allclose(np.linalg.norm(ours[:5].toarray(), axis=1)[np.asarray(counts[:5].sum(axis=1)).ravel() > 0], 1)


def test_scoring_does_not_import_sklearn():
    import subprocess
    import sys

    code = ("import sys; from eval.rubric import FastScorer; import eval.rubric.blame, eval.rubric.empathy; "
            "sys.exit(1 if any(m.split('.')[0] == 'sklearn' for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1]).returncode == 0
