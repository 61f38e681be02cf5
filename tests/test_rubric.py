import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from pydantic import ValidationError

from eval.rubric import MECHANISMS, Rubric, load_rubric
from eval.rubric.nonblame import score_non_blame

LABELLED = [json.loads(line) for line in (Path(__file__).parent / "data" / "non_blame_labeled.jsonl").open()]
SPEC = load_rubric().non_blame


def test_rubric_is_versioned_data_with_every_part():
    rubric = load_rubric()
    assert rubric.version >= 1
    assert set(rubric.empathy.mechanisms) == set(MECHANISMS)
    assert {"criticism", "contempt", "defensiveness", "stonewalling"} <= set(rubric.non_blame.horsemen)
    assert {"i_statement", "need", "responsibility", "gentle_startup"} <= set(rubric.non_blame.antidotes)


def test_a_bad_pattern_in_the_rubric_is_refused_by_name():
    data = yaml.safe_load((Path(__file__).parents[1] / "eval" / "rubric" / "rubric.yaml").read_text())
    data["non_blame"]["horsemen"]["criticism"]["patterns"].append("(unclosed")
    with pytest.raises(ValidationError, match="unclosed"):
        Rubric.model_validate(data)


@pytest.mark.parametrize("row", [r for r in LABELLED if r["blame"]], ids=lambda r: r["text"][:40])
def test_blaming_messages_are_flagged_with_their_horseman(row):
    score = score_non_blame(row["text"], SPEC)
    assert row["kind"] in score.horsemen
    assert score.score < 1.0
    for flag in score.flags:  # evidence quotes the user's own words
        assert row["text"][flag.start : flag.end].strip() == flag.span
        assert flag.reason


@pytest.mark.parametrize("row", [r for r in LABELLED if not r["blame"]], ids=lambda r: r["text"][:40])
def test_non_blaming_messages_are_not_flagged(row):
    score = score_non_blame(row["text"], SPEC)
    assert score.flags == (), score.flags
    assert score.score == 1.0


def test_the_labelled_set_is_balanced_and_covers_every_horseman():
    kinds = {r["kind"] for r in LABELLED if r["blame"]}
    assert kinds == set(SPEC.horsemen)
    assert abs(sum(r["blame"] for r in LABELLED) - sum(not r["blame"] for r in LABELLED)) <= 2


def test_blame_scores_below_an_i_statement_and_antidotes_are_named():
    blaming = score_non_blame("You never listen to me and you are so selfish. This is all your fault.", SPEC)
    gentle = score_non_blame(
        "I feel hurt when our plans change at the last minute, and I'd like us to find a way to talk about it.", SPEC
    )
    assert blaming.score < gentle.score == 1.0
    assert blaming.horsemen == ["criticism"]
    assert {s.kind for s in gentle.strengths} >= {"i_statement", "need"}


def test_more_horsemen_score_lower():
    one = score_non_blame("You never help.", SPEC)
    two = score_non_blame("You never help. You're such an idiot.", SPEC)
    assert two.score < one.score < 1.0


def test_quoted_examples_and_advice_about_phrasing_are_not_blame():
    assert not score_non_blame('Saying "you always ignore me" tends to start a fight.', SPEC).flagged
    assert not score_non_blame("Try to avoid telling him he is selfish.", SPEC).flagged
    assert score_non_blame("You always ignore me.", SPEC).flagged


def test_scores_serialise_to_the_documented_shape():
    from eval.rubric import EmpathyScore, MechanismScore, RubricScore

    e = EmpathyScore(*(MechanismScore(level) for level in (2, 1, 0)))
    out = RubricScore(e, score_non_blame("Whatever.", SPEC), 1).to_json(evidence=False)
    assert out["empathy"] == {"emotional_reactions": 2, "interpretations": 1, "explorations": 0}
    assert out["non_blame"]["score"] == pytest.approx(0.6)
    assert out["non_blame"]["flags"][0] == {"kind": "stonewalling", "span": "Whatever.", "reason": SPEC.cues[
        "withdrawal"].reason}


def _toy_rows():
    from eval.rubric.train import LabelledReply

    rng = np.random.default_rng(0)
    warm = ["I'm so sorry, that sounds painful.", "That must hurt so much.", "Sending you a hug, I'm sorry."]
    cold = ["Just go to the gym.", "Read the manual.", "Try a different app."]
    asks = ["What happened next?", "How are you feeling about it?", "Do you want to talk about it?"]
    rows = []
    for i in range(90):
        er, ex = int(rng.integers(0, 3)), int(rng.integers(0, 3))
        parts = [warm[i % 3]] * (er > 0) + [cold[i % 3]] + [asks[i % 3]] * (ex > 0)
        rows.append(
            LabelledReply(
                context=f"post {i}",
                response=" ".join(parts),
                levels={"emotional_reactions": er, "interpretations": i % 3, "explorations": ex},
                rationales={"emotional_reactions": [warm[i % 3]] if er else [], "interpretations": [],
                            "explorations": [asks[i % 3]] if ex else []},
            )
        )
    return rows


def _toy_embed(texts):
    vecs = np.array([[len(t), t.count("?"), t.count("sorry"), 1.0] + [0.0] * 380 for t in texts], dtype=float)
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


@pytest.mark.slow  # a second process or a long computation
def test_trained_empathy_model_round_trips_and_learns_a_toy_signal(tmp_path):
    from eval.rubric import EmpathyModel
    from eval.rubric.train import train_empathy_model

    rows = _toy_rows()
    model = train_empathy_model(rows, _toy_embed, {"trained_on": "toy"})
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = EmpathyModel.load(_toy_embed, path)
    pairs = [("post", "I'm so sorry, that sounds painful. Just go to the gym. What happened next?"),
             ("post", "Read the manual.")]
    before, after = model.predict(pairs), loaded.predict(pairs)
    assert [s.levels() for s in before] == [s.levels() for s in after]
    warm, cold = after
    assert warm.emotional_reactions.level > 0 and warm.explorations.level > 0
    assert cold.emotional_reactions.level == 0 and cold.explorations.level == 0
    # evidence is the sentence that carried it, located in the reply
    text = pairs[0][1]
    ev = warm.explorations.evidence[0]
    assert text[ev.start : ev.end] == ev.span == "What happened next?"
    assert loaded.meta["trained_on"] == "toy"


def test_the_shipped_empathy_model_loads_and_scores_in_batches():
    from eval.rubric import FastScorer

    scorer = FastScorer(_toy_embed)
    scores = scorer.score_many([("I feel alone.", "I'm sorry. What happened?"), ("x", "ok")])
    assert len(scores) == 2
    for s in scores:
        assert set(s.empathy.levels()) == set(MECHANISMS)
        assert all(level in (0, 1, 2) for level in s.empathy.levels().values())
    assert scorer.score_many([]) == []


def test_a_shared_message_is_embedded_once():
    from eval.rubric import FastScorer

    seen = []

    def embed(texts):
        seen.extend(texts)
        return _toy_embed(texts)

    scorer = FastScorer(embed)
    first = scorer.score("I feel alone.", "I'm sorry. What happened?")
    again = scorer.score("I feel alone.", "I'm sorry. What happened?")
    scorer.score("I feel alone.", "Another reply.")
    assert first.empathy.levels() == again.empathy.levels()
    assert seen.count("I feel alone.") == 1
