"""Unit tests of the learned safety classifier's mechanics: a hand-made linear model over a toy embedder, so
each test states exactly which sentence should fire, with which category, and why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent.safety import CLASSES, SafetyCheck, SafetyModel, check_message, message_sentences

# Toy embedding: one axis per cue word; a sentence without a cue sits on the "calm" axis.
AXES = ("calm", "cornered", "hurtself", "kids")


def toy_embed(texts: list[str]) -> np.ndarray:
    rows = []
    for text in texts:
        vec = np.zeros(len(AXES))
        hits = [i for i, word in enumerate(AXES) if word in text.lower() and i > 0]
        vec[hits[0] if hits else 0] = 1.0
        rows.append(vec)
    return np.asarray(rows)


def toy_model(threshold: float = 0.5) -> SafetyModel:
    # Rows are classes (none, self_harm, partner_violence, harm_to_others, child_abuse); columns the toy axes.
    coef = np.full((len(CLASSES), len(AXES)), -4.0)
    coef[0, 0] = 4.0  # calm -> none
    coef[2, 1] = 4.0  # cornered -> partner_violence
    coef[1, 2] = 4.0  # hurtself -> self_harm
    coef[4, 3] = 4.0  # kids -> child_abuse
    return SafetyModel(coef, np.zeros(len(CLASSES)), threshold)


def test_the_classifier_flags_the_sentence_it_scores_dangerous_and_names_its_category():
    check = SafetyCheck(toy_embed, toy_model())
    text = "We had a long week. He keeps me cornered in the kitchen. Anyway, the weekend was fine."
    verdict = check(text)
    assert verdict.flagged and verdict.category == "partner_violence"
    assert verdict.span == "He keeps me cornered in the kitchen."


def test_a_disclosure_at_the_end_of_a_very_long_story_is_still_classified():
    story = " ".join(f"On day {n} we talked about the garden and the bills." for n in range(250))
    verdict = SafetyCheck(toy_embed, toy_model())(story + " Last night he kept me cornered until three.")
    assert verdict.flagged and verdict.category == "partner_violence"


def test_the_category_is_the_most_likely_danger_class_not_the_first():
    verdict = SafetyCheck(toy_embed, toy_model())("Something about the kids worries me.")
    assert verdict.flagged and verdict.category == "child_abuse"


def test_calm_messages_and_scores_below_the_threshold_are_not_flagged():
    assert not SafetyCheck(toy_embed, toy_model())("We argue about chores. How do we stop?").flagged
    # The danger probability of a cue sentence is about 0.9996 here: a threshold above it lets it through.
    assert not SafetyCheck(toy_embed, toy_model(threshold=0.99999))("He keeps me cornered.").flagged


def test_the_rules_decide_first_and_the_classifier_is_not_asked():
    def no_embedding(texts: list[str]) -> np.ndarray:
        raise AssertionError("the classifier ran although the rules had already flagged the message")

    text = "My husband hits me when he drinks."
    assert check_message(text).flagged
    verdict = SafetyCheck(no_embedding, toy_model())(text)
    assert verdict == check_message(text)


def test_without_an_embedder_the_check_is_the_rules_alone():
    check = SafetyCheck(None, toy_model())
    assert not check("He keeps me cornered.").flagged
    assert check("I want to kill myself.").category == "self_harm"


def test_probabilities_are_a_distribution_over_the_classes():
    probs = toy_model().probabilities(toy_embed(["calm day", "cornered", "kids"]))
    assert probs.shape == (3, len(CLASSES))
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert list(probs.argmax(axis=1)) == [0, CLASSES.index("partner_violence"), CLASSES.index("child_abuse")]


def test_a_saved_model_loads_back_the_same(tmp_path: Path):
    model = toy_model(threshold=0.42)
    model.save(tmp_path / "m.npz")
    loaded = SafetyModel.load(tmp_path / "m.npz")
    assert loaded.threshold == pytest.approx(0.42)
    assert np.allclose(loaded.coef, model.coef) and np.allclose(loaded.intercept, model.intercept)


def test_the_bundled_model_matches_the_embedder_and_the_classes():
    model = SafetyModel.load()
    assert model.coef.shape == (len(CLASSES), 384)  # all-MiniLM-L6-v2's dimension
    assert 0.0 < model.threshold < 1.0


def test_long_messages_are_split_into_sentences_and_capped():
    text = " ".join(f"Sentence number {n} is here." for n in range(300))
    sentences = message_sentences(text)
    assert len(sentences) == 120 and sentences[0] == "Sentence number 0 is here."
    assert sentences[59] == "Sentence number 59 is here." and sentences[-1] == "Sentence number 299 is here."
    assert message_sentences("ok") == ["ok"]  # too short to split: the whole message is scored
