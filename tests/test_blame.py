"""The learned non-blame classifier and the substance checks: issue 13's examples on the shipped model (real
MiniLM, integration), and the machinery (training, persistence, masking, gates) on toy embeddings."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from eval.rubric import FastScorer, load_rubric
from eval.rubric.blame import BlameModel, mask_quotes
from eval.rubric.nonblame import find_rule_hits, quoted_ranges
from eval.rubric.substance import credit_substance
from eval.rubric.train import LabelledTurn, read_turns, train_blame_model
from eval.rubric.types import EmpathyScore, Evidence, Flag, MechanismScore, NonBlameScore

RUBRIC = load_rubric()
SPEC = RUBRIC.non_blame
SUITES = Path(__file__).parent.parent / "eval" / "suites"

# Issue 13's misses, each with the horseman it must now be flagged with.
BLAMING = [
    ("Can you put your phone away? It's rude.", "criticism"),
    ("Calm down, you're overreacting", "contempt"),
    ("Seriously? I work all day. What exactly do you do?", "contempt"),
    ("Here we go again. Nothing I do is ever good enough for you.", "defensiveness"),
    ("That's ridiculous.", "contempt"),
    ("I'm not doing this right now.", "stonewalling"),
    ("Maybe if you weren't so controlling I'd want to call.", "defensiveness"),
    ("Wow, okay, sorry for having a social life.", "contempt"),
    ("I'm sorry you feel that way. It was just a joke.", "defensiveness"),
    ("Great, you remembered. Should I throw myself a parade?", "contempt"),
    ("Thanks a lot, genius.", "contempt"),
    ("Oh please, your phone died?", "contempt"),
    ("It's not my fault", "defensiveness"),
]
# Issue 13's false flags and its real empathy and repairs: none of them blame.
CLEAN = [
    "You always notice when I'm tired, and it means a lot.",
    "You're the one who's been holding everything together",
    "That sounds really stressful, I didn't know",
    "I was really scared",
    "I feel torn",
    "It hurt when you left early.",
    "I'm sorry, that came out harsh",
    "That's partly on me",
]


# --- the rules: evidence the classifier reads and quotes ----------------------------------------------------


@pytest.mark.parametrize(("text", "horseman"), BLAMING, ids=lambda v: str(v)[:40])
def test_every_issue_example_has_rule_evidence_of_its_horseman(text, horseman):
    assert horseman in {h.kind for h in find_rule_hits(text, SPEC)}


@pytest.mark.parametrize("text", CLEAN, ids=lambda v: v[:40])
def test_praise_repairs_and_feelings_carry_no_rule_evidence(text):
    assert find_rule_hits(text, SPEC) == []


def test_thanks_is_praise_but_not_when_it_comes_with_a_put_down():
    assert find_rule_hits("Thanks, you always make me laugh.", SPEC) == []
    assert [h.cue for h in find_rule_hits("Thanks a lot, genius.", SPEC)] == ["sarcasm"]


def test_a_script_for_someone_else_is_quoted_not_the_writers_own_words():
    text = 'It helps to start softly. You could say: "I\'m so sorry, you must be exhausted."'
    assert any("so sorry" in text[a:b] for a, b in quoted_ranges(text))
    assert "so sorry" not in mask_quotes(text) and "start softly" in mask_quotes(text)


# --- the substance checks on empathy and antidotes -----------------------------------------------------------


def _strong_everywhere(text: str) -> EmpathyScore:
    evidence = (Evidence(text, 0, len(text), "model"),)
    return EmpathyScore(*(MechanismScore(2, evidence) for _ in range(3)))


def _levels(text: str, non_blame: NonBlameScore | None = None) -> tuple[int, int, int]:
    nb = non_blame or NonBlameScore(1.0)
    e = credit_substance(_strong_everywhere(text), text, nb, RUBRIC.empathy.substance)
    return (e.emotional_reactions.level, e.interpretations.level, e.explorations.level)


def test_a_command_or_a_rhetorical_question_is_not_curiosity():
    for text in ("Can you put your phone away? It's rude.", "Oh please, your phone died?", "What exactly do you do?"):
        assert _levels(text)[2] == 0, text


def test_a_question_about_their_experience_is_curiosity():
    assert _levels("How did that feel for you?")[2] >= 1
    assert _levels("What was the hardest part of your day?")[2] >= 1


def test_words_with_no_warmth_or_understanding_earn_no_empathy():
    # A non-apology's rule cue withholds credit even where the classifier clears the turn ...
    text = "I'm sorry you feel that way"
    cues = tuple(find_rule_hits(text, SPEC))
    assert cues
    assert _levels(text, NonBlameScore(1.0, cues=cues)) == (0, 0, 0)
    # ... and so does the classifier's flag on a withdrawal no rule names (the shipped model flags this one).
    text = "I'm going to bed."
    flag = Flag("stonewalling", text, "classifier", 0, len(text), cue="classifier")
    assert _levels(text, NonBlameScore(0.5, (flag,), probability=0.8)) == (0, 0, 0)


def test_learned_warmth_in_words_no_pattern_lists_is_kept():
    # Requiring a pattern match for every level took EPITOME's macro-F1 from 0.78/0.56/0.72 to 0.50/0.27/0.56.
    assert _levels("Ugh, that landlord sounds like a nightmare, hang in there.")[:2] == (2, 2)


def test_real_understanding_and_warmth_keep_their_credit():
    levels = _levels("That sounds really stressful, I didn't know")
    assert levels[0] >= 1 or levels[1] >= 1


def test_a_blamed_sentence_earns_no_empathy():
    text = "Wow, okay, sorry for having a social life."
    hits = find_rule_hits(text, SPEC)
    assert _levels(text, NonBlameScore(0.4, tuple(hits), probability=0.9)) == (0, 0, 0)


# --- the classifier's machinery on toy embeddings -------------------------------------------------------------


def _toy_embed(texts: list[str]) -> np.ndarray:
    out = np.zeros((len(texts), 16))
    for i, t in enumerate(texts):
        for w in t.lower().split():
            out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % 16] += 1.0
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def _toy_turns() -> list[LabelledTurn]:
    blame = [
        ("You never help and you are lazy.", "criticism"),
        ("You always forget everything, typical.", "criticism"),
        ("Oh sure, great job, genius.", "contempt"),
        ("Thanks a lot, genius, really helpful.", "contempt"),
        ("It's not my fault, you didn't remind me.", "defensiveness"),
        ("Well you started it, not my problem.", "defensiveness"),
        ("Whatever. I'm done talking.", "stonewalling"),
        ("Leave me alone, I don't want to talk about it.", "stonewalling"),
    ]
    clean = [
        "I feel hurt when plans change last minute.",
        "Could we talk about the chores tonight?",
        "I'm sorry, that came out harsh.",
        "That sounds really hard, how are you doing?",
        "I need a short break, can we talk in an hour?",
        "Thank you for cooking, it meant a lot.",
        "I was scared when you didn't call.",
        "Can we find a time that works for both of us?",
    ]
    rows = [LabelledTurn(f"b{i}-{k}", "", t, (h,)) for k in range(4) for i, (t, h) in enumerate(blame)]
    return rows + [LabelledTurn(f"c{i}-{k}", "", t, ()) for k in range(4) for i, t in enumerate(clean)]


def test_a_trained_blame_model_separates_toy_turns_names_the_horseman_and_round_trips(tmp_path):
    model, figures = train_blame_model(_toy_turns(), ["Couples often find it helps to pause."], _toy_embed, SPEC)
    assert set(figures) == {"cv_recall", "cv_false_flags", "threshold"}
    fresh = ["You never listen and you are lazy.", "I feel hurt when you are late, can we talk?"]
    blaming, clean = model.score_many(fresh)
    assert blaming.flagged and "criticism" in blaming.horsemen and blaming.probability > clean.probability
    assert not clean.flagged and clean.score == 1.0
    path = tmp_path / "blame.npz"
    model.save(path)
    again = BlameModel.load(_toy_embed, SPEC, path)
    assert again.threshold == pytest.approx(model.threshold)
    assert [s.probability for s in again.score_many(fresh)] == pytest.approx(
        [s.probability for s in model.score_many(fresh)], abs=2e-3
    )


def test_a_model_trained_on_other_cues_is_refused_with_the_command_that_fixes_it(tmp_path):
    model, _ = train_blame_model(_toy_turns(), [], _toy_embed, SPEC)
    model.save(tmp_path / "blame.npz")
    other = SPEC.model_copy(update={"cues": {k: v for k, v in SPEC.cues.items() if k != "sarcasm"}})
    with pytest.raises(ValueError, match="attune eval train --blame"):
        BlameModel.load(_toy_embed, other, tmp_path / "blame.npz")


def test_the_shipped_model_loads_and_every_score_carries_a_probability(hashing_scorer):
    scores = hashing_scorer.score_many([("", "Whatever."), ("", "I feel hurt and I'd like to talk.")])
    assert all(0.0 <= s.non_blame.probability <= 1.0 for s in scores)
    assert scores[0].to_json()["non_blame"]["probability"] == pytest.approx(scores[0].non_blame.probability, abs=1e-3)


def test_a_rule_hit_is_kept_as_a_cue_even_when_the_classifier_clears_the_turn():
    model, _ = train_blame_model(_toy_turns(), [], _toy_embed, SPEC)
    score = model.score("I'm sorry you feel that way")
    assert [c.cue for c in score.cues] == ["non_apology"]
    assert score.flagged == (score.probability >= model.threshold)


def test_the_labelled_blame_data_is_well_formed_and_the_parts_do_not_overlap():
    train = read_turns(SUITES / "blame_train.jsonl")
    test = read_turns(SUITES / "blame_test.jsonl")
    assert len(train) + len(test) >= 600
    assert not {t.text.lower() for t in train} & {t.text.lower() for t in test}
    for turn in train + test:
        assert set(turn.kinds) <= set(SPEC.horsemen), turn
    share = sum(t.blame for t in test) / len(test)
    assert 0.3 < share < 0.7
    relationships = {json.loads(line)["relationship"] for line in (SUITES / "blame_test.jsonl").open()}
    assert len(relationships) >= 4


def test_the_frozen_test_part_is_unchanged():
    digest = hashlib.sha256((SUITES / "blame_test.jsonl").read_bytes()).hexdigest()
    assert digest.startswith("e002a24f")


# Later test parts, each written and frozen before a retraining (eval/suites/README.md): name, sha256 prefix, turns,
# blaming turns, and the files written before it, with which it must share no turn.
LATER_PARTS = [
    ("blame_test2.jsonl", "4b6eeeda", 130, 80, ("blame_train.jsonl", "blame_test.jsonl")),
    ("blame_test3.jsonl", "35e42efe", 111, 69,
     ("blame_train.jsonl", "blame_train2.jsonl", "blame_test.jsonl", "blame_test2.jsonl")),
    ("blame_test4.jsonl", "1c67cd6c", 94, 59,
     ("blame_train.jsonl", "blame_train2.jsonl", "blame_test.jsonl", "blame_test2.jsonl", "blame_test3.jsonl")),
]


@pytest.mark.parametrize(("name", "digest", "turns", "blaming", "earlier"), LATER_PARTS)
def test_the_later_test_parts_are_frozen_and_share_no_turn_with_earlier_files(name, digest, turns, blaming, earlier):
    path = SUITES / name
    assert hashlib.sha256(path.read_bytes()).hexdigest().startswith(digest)
    test = [json.loads(line) for line in path.open()]
    assert len(test) == turns and sum(t["blame"] for t in test) == blaming
    seen = {json.loads(line)["text"].lower() for other in earlier for line in (SUITES / other).open()}
    assert not {t["text"].lower() for t in test} & seen


# --- the shipped classifier on the real embedder -----------------------------------------------------------


@pytest.fixture(scope="module")
def real_scorer() -> FastScorer:
    from knowledge.embeddings import make_embeddings

    embeddings = make_embeddings()
    return FastScorer(lambda texts: np.asarray(embeddings.embed_documents(list(texts)), dtype=np.float64))


@pytest.mark.integration
@pytest.mark.parametrize(("text", "horseman"), BLAMING, ids=lambda v: str(v)[:40])
def test_the_shipped_classifier_flags_every_issue_example_with_its_horseman(real_scorer, text, horseman):
    score = real_scorer.score("", text)
    assert horseman in score.non_blame.horsemen, score.non_blame
    assert score.empathy.total == 0  # blame earns no empathy credit


@pytest.mark.integration
@pytest.mark.parametrize("text", CLEAN, ids=lambda v: v[:40])
def test_the_shipped_classifier_leaves_praise_repairs_and_feelings_unflagged(real_scorer, text):
    assert not real_scorer.score("", text).non_blame.flagged


@pytest.mark.integration
def test_feelings_repairs_and_real_empathy_earn_their_credit(real_scorer):
    def kinds(text: str) -> set[str]:
        return {s.kind for s in real_scorer.score("", text).non_blame.strengths}

    for feeling in ("I was really scared", "I feel torn", "It hurt when you left early."):
        assert "i_statement" in kinds(feeling), feeling
    for repair in ("I'm sorry, that came out harsh", "That's partly on me"):
        assert "responsibility" in kinds(repair), repair
    assert "responsibility" not in kinds("It's not my fault")
    stressful = real_scorer.score("", "That sounds really stressful, I didn't know").empathy
    assert stressful.total >= 2
    for cold in ("I'm going to bed.", "I'm sorry you feel that way", "Can you put your phone away? It's rude."):
        assert real_scorer.score("", cold).empathy.total == 0, cold


@pytest.mark.integration
def test_a_blaming_sentence_among_i_statements_is_still_caught(real_scorer):
    score = real_scorer.score("", "I feel hurt when our plans change. You are so selfish. Can we talk?")
    assert score.non_blame.flagged
    assert "gentle_startup" not in {s.kind for s in score.non_blame.strengths}


@pytest.mark.integration
def test_sympathy_inside_a_coach_script_is_not_the_coachs_empathy(real_scorer):
    script = 'Tell her: "I\'m so sorry, that sounds exhausting and I hate that you went through it."'
    plain = "I'm so sorry, that sounds exhausting and I hate that you went through it."
    assert real_scorer.score("", plain).empathy.emotional_reactions.level >= 1
    assert real_scorer.score("", script).empathy.emotional_reactions.level == 0
