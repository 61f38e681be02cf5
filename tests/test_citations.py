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


def test_a_marker_at_the_start_of_a_line():
    assert run("Hello\n[1] there.\n\n[5] Next.")[0] == "Hello\n[1] there.\n\nNext."


def test_any_stream_terminates_and_keeps_only_valid_markers():
    import random

    rng = random.Random(42)
    alphabet = ["[", "]", "1", "2", "9", ".", "!", "?", " ", "\n", "\t", "a", "word", "[1]", "[3]", "...", "\u2019"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        pieces = []
        i = 0
        while i < len(text):  # cut into random-sized deltas, as a tokenizer would
            j = i + rng.randint(1, 4)
            pieces.append(text[i:j])
            i = j
        f = CitationFilter(2, attribute=lambda s: 1)
        shown = "".join(f.feed(p) for p in pieces) + f.finish()
        assert {int(n) for n in re.findall(r"\[(\d+)\]", shown)} <= {1, 2}, (text, shown)
        assert set(f.cited) <= {1, 2}
        letters = re.sub(r"\[\d+\]|\s", "", shown)
        # Every character the model wrote is shown, but markers and an unfinished marker at the very end.
        original = re.sub(r"\[\d+\]|\s", "", re.sub(r"\[\d{0,3}\Z", "", text))
        assert letters == original, (text, shown)
