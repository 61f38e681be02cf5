import re

import pytest

from agent.citations import CitationFilter

WORDS = r"\[|\]|[^\s\[\]]+\s*|\s+"


def run(text: str, n: int = 2, attribute=None, pieces: str | None = WORDS) -> tuple[str, list[int]]:
    f = CitationFilter(n, attribute)
    parts = re.findall(pieces, text) if pieces else list(text)
    shown = "".join(f.feed(p) for p in parts) + f.finish()
    return shown, f.cited


@pytest.mark.parametrize("pieces", [WORDS, None], ids=["word-pieces", "char-pieces"])
def test_markers_that_point_at_nothing_are_removed(pieces):
    shown, cited = run("Be kind [1]. Listen well [7] and ask. [2] Done [0].", pieces=pieces)
    assert shown == "Be kind [1]. Listen well and ask [2]. Done."
    assert cited == [1, 2]


def test_no_passages_means_no_markers_at_all():
    shown, cited = run("Try this [1] and that [2].", n=0)
    assert shown == "Try this and that."
    assert cited == []


def test_uncited_sentences_get_the_attributed_passage():
    shown, cited = run("Speak gently. Ask how they feel [1].", attribute=lambda s: 2 if "gently" in s else None)
    assert shown == "Speak gently [2]. Ask how they feel [1]."
    assert cited == [2, 1]


def test_attribution_outside_the_passages_is_ignored():
    shown, cited = run("Speak gently.", attribute=lambda s: 9)
    assert shown == "Speak gently."
    assert cited == []


def test_numbers_ellipses_and_unfinished_markers():
    shown, cited = run("Take 3.5 hours... then rest [", attribute=lambda s: 1)
    assert shown == "Take 3.5 hours... then rest [1]"
    assert "[" not in run("Half a marker [1", n=0)[0]


def test_brackets_that_are_not_markers_are_kept():
    assert run("A [note] stays.")[0] == "A [note] stays."
