import json

import pytest

from agent.backends.fake import ScriptedChatModel
from agent.cli import main
from agent.coach import Coach, meets_bar
from agent.judge import JudgeFailed, JudgeScorer
from agent.safety import check_message
from eval.rubric import EmpathyScore, MechanismScore, RubricScore, load_rubric
from eval.rubric.nonblame import score_non_blame
from knowledge.ingest import ingest
from knowledge.retrieve import HybridRetriever

SPEC = load_rubric().non_blame


class CueScorer:
    """A transparent stand-in for the fast scorer: empathy from surface cues, non-blame from the real rules."""

    name = "cues"

    def score(self, context, response):
        lower = response.lower()
        levels = (
            2 * ("sorry" in lower or "sounds" in lower),
            2 * ("it seems" in lower or "sounds like" in lower),
            2 * ("?" in response),
        )
        return RubricScore(
            EmpathyScore(*(MechanismScore(level) for level in levels)), score_non_blame(response, SPEC), 1, self.name
        )


@pytest.fixture
def coach(library, settings):
    ingest(library, progress=False)
    return Coach(ScriptedChatModel(), HybridRetriever(library, top_k=3, min_relevance=0.1), settings, CueScorer(),
                 safety_check=check_message)


def test_every_answer_carries_its_rubric_scores(coach):
    coach.model.replies = ["It sounds like you feel unheard. What would help?"]
    answer = coach.ask("How do I avoid blaming my partner?").result()
    assert answer.scores is not None and meets_bar(answer.scores)
    assert answer.drafts == []


def test_guided_answer_redrafts_when_the_first_falls_short_and_keeps_the_best(coach):
    bad = "Your partner is selfish. Tell him to stop."
    good = "It sounds like you feel alone, and I'm sorry. What would you like to ask for?"
    coach.model.replies = [bad, good, "never used"]
    answer = coach.ask("How do I avoid blaming my partner?", candidates=3).result()
    assert answer.text == good
    assert [d.text for d in answer.drafts] == [bad, good]  # stopped once a draft met the bar
    assert answer.drafts[0].scores.non_blame.flagged
    # the extra drafts are sampled, the first is the ordinary greedy answer
    assert len(coach.model.history) == 2


def test_guided_answer_keeps_the_greedy_draft_when_it_is_good(coach):
    coach.model.replies = ["It sounds like this hurts, I'm sorry. What happened?", "never used"]
    answer = coach.ask("How do I avoid blaming my partner?", candidates=3).result()
    assert len(answer.drafts) == 1 and answer.text.startswith("It sounds like")


def test_guided_answer_picks_the_least_blaming_when_none_meets_the_bar(coach):
    coach.model.replies = ["You're so lazy.", "Ask him kindly to help.", "Grow up. You're pathetic."]
    answer = coach.ask("How do I avoid blaming my partner?", candidates=3).result()
    assert len(answer.drafts) == 3
    assert answer.text == "Ask him kindly to help."


def _verdict(**over):
    v = {
        "emotional_reactions": {"level": 2, "span": "I'm so sorry"},
        "interpretations": {"level": 1, "span": "that sounds lonely"},
        "explorations": {"level": 0, "span": ""},
        "blame": [{"kind": "criticism", "span": "you never listen"}, {"kind": "contempt", "span": "not in text"}],
    }
    v.update(over)
    return json.dumps(v)


def test_judge_parses_a_schema_verdict_and_drops_quotes_not_in_the_reply():
    model = ScriptedChatModel(replies=[_verdict()])
    reply = "I'm so sorry, that sounds lonely. But you never listen either."
    score = JudgeScorer(model).score("I feel alone.", reply)
    assert score.empathy.levels() == {"emotional_reactions": 2, "interpretations": 1, "explorations": 0}
    assert score.empathy.emotional_reactions.evidence[0].span == "I'm so sorry"
    assert [f.kind for f in score.non_blame.flags] == ["criticism"]  # the contempt quote is not in the reply
    assert score.non_blame.score == pytest.approx(0.5)
    system = model.history[0][0].content
    assert "emotional_reactions" in system and "stonewalling" in system


def test_judge_reports_an_invalid_verdict():
    with pytest.raises(JudgeFailed):
        JudgeScorer(ScriptedChatModel(replies=["not json"])).score("a", "b")
    with pytest.raises(JudgeFailed):
        JudgeScorer(ScriptedChatModel(replies=[_verdict(explorations={"level": 7})])).score("a", "b")


def test_llamacpp_gets_the_schema_in_its_own_format():
    from agent.backends.llamacpp import _llama_response_format

    fmt = {"type": "json_schema", "json_schema": {"name": "v", "schema": {"type": "object"}}}
    assert _llama_response_format(fmt) == {"type": "json_object", "schema": {"type": "object"}}
    assert _llama_response_format(None) is None


# -- the CLI, with the hashing embedder standing in for MiniLM and the scripted model for llama.cpp


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_eval_score_prints_one_line_per_input_in_order(tmp_path, capsys, hashing_embedder):
    lines = [
        {"id": "b", "context": "I feel alone.", "response": "You never listen to me and you are so selfish."},
        {"id": "a", "context": "I feel alone.", "response": "I'm sorry you feel alone. What happened?"},
        {"id": 3, "response": "Whatever."},
    ]
    file = tmp_path / "in.jsonl"
    file.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n")
    code, out, err = run(capsys, "eval", "score", file)
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["b", "a", "3"]
    for r in rows:
        assert set(r) == {"id", "empathy", "non_blame"}
        assert set(r["empathy"]) == {"emotional_reactions", "interpretations", "explorations"}
        assert all(v in (0, 1, 2) for v in r["empathy"].values())
        assert 0.0 <= r["non_blame"]["score"] <= 1.0
    assert rows[0]["non_blame"]["flags"][0]["kind"] == "criticism"
    assert (rows[1]["non_blame"]["score"], rows[1]["non_blame"]["flags"]) == (1.0, [])
    assert rows[1]["non_blame"]["probability"] < rows[0]["non_blame"]["probability"]
    assert rows[2]["non_blame"]["flags"][0]["kind"] == "stonewalling"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a", "response": "hi"}\n{not json}\n', ":2: not valid JSON"),
        ('{"id": "a"}\n', ':1: missing or empty "response"'),
        ("", "no lines to score"),
        ("[1, 2]\n", ":1: expected a JSON object"),
    ],
)
def test_eval_score_refuses_bad_input_in_one_line(tmp_path, capsys, content, message):
    file = tmp_path / "in.jsonl"
    file.write_text(content)
    code, out, err = run(capsys, "eval", "score", file)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_eval_score_names_a_missing_file(tmp_path, capsys):
    code, _, err = run(capsys, "eval", "score", tmp_path / "nope.jsonl")
    assert code == 2 and "no such file" in err


@pytest.fixture
def fake_backend(monkeypatch, hashing_embedder):
    monkeypatch.setenv("ATTUNE_MODEL__BACKEND", "fake")
    monkeypatch.setenv("ATTUNE_RETRIEVAL__MIN_RELEVANCE", "0.05")  # hashing vectors are less similar than MiniLM's


def test_eval_run_writes_results_and_a_report_then_compare(tmp_path, capsys, fake_backend):
    suite = tmp_path / "suite.jsonl"
    suite.write_text(
        json.dumps(
            {
                "id": "q1",
                "question": "How do I tell my partner I feel lonely?",
                "references": [{"text": "You never listen, honestly."}],
            }
        )
        + "\n"
        + json.dumps({"id": "q2", "question": "How do I apologise after a fight?"})
        + "\n"
    )
    code, out, err = run(capsys, "eval", "run", "--suite", suite, "--out", tmp_path / "run1", "--candidates", "2")
    assert code == 0, err
    rows = [json.loads(line) for line in (tmp_path / "run1" / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["q1", "q2"]
    for r in rows:
        assert {"id", "question", "answer", "sources", "scores"} <= set(r)
        assert r["answer"] and r["sources"]
        assert set(r["scores"]["empathy"]) == {"emotional_reactions", "interpretations", "explorations"}
    assert rows[0]["references"][0]["scores"]["non_blame"]["flags"][0]["kind"] == "criticism"
    report = (tmp_path / "run1" / "report.html").read_text()
    assert "Therapists" in report and "q2" in report and "<script" not in report
    for png in ("criteria.png", "distributions.png"):
        assert (tmp_path / "run1" / png).read_bytes()[:4] == b"\x89PNG"
    assert "report:" in out

    code, _, err = run(
        capsys, "eval", "run", "--suite", suite, "--out", tmp_path / "run2", "--limit", "1", "--candidates", "1"
    )
    assert code == 0, err
    code, out, err = run(capsys, "eval", "compare", tmp_path / "run1", tmp_path / "run2", "--out", tmp_path / "cmp")
    assert code == 0, err
    page = (tmp_path / "cmp" / "report.html").read_text()
    assert "run1" in page and "run2" in page and "1 shared questions" in page


def test_eval_run_check_fails_below_the_thresholds(tmp_path, capsys, fake_backend, monkeypatch):
    monkeypatch.setattr(
        "agent.backends.make_chat_model", lambda _: ScriptedChatModel(default_reply="Whatever. Grow up.")
    )
    suite = tmp_path / "suite.jsonl"
    suite.write_text(json.dumps({"id": "q1", "question": "How do I talk to my partner?"}) + "\n")
    code, _, err = run(capsys, "eval", "run", "--suite", suite, "--out", tmp_path / "r", "--check", "--candidates", "1")
    assert code == 1
    assert "check failed" in err and "flagged" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a", "question": "hi"}\n{"id": "a", "question": "again"}\n', "duplicate id 'a'"),
        ('{"question": "hi"}\n', ':1: missing or empty "id"'),
    ],
)
def test_eval_run_refuses_a_bad_suite_before_loading_anything(tmp_path, capsys, content, message):
    suite = tmp_path / "s.jsonl"
    suite.write_text(content)
    code, _, err = run(capsys, "eval", "run", "--suite", suite, "--out", tmp_path / "o")
    assert code == 2 and message in err


def test_the_shipped_suites_are_valid():
    from importlib.resources import files

    from eval.run import read_suite

    suites = files("eval").joinpath("suites")
    relationship = read_suite(suites / "relationship_questions.jsonl")
    counselchat = read_suite(suites / "counselchat.jsonl")
    assert len(relationship) >= 20 and len(counselchat) == 30
    assert all(c.references for c in counselchat)
    from eval.run import bundled_question_suites

    # The UI's suite picker: question suites only, never the labelled safety or blame sets.
    assert [p.name for p in bundled_question_suites()] == [
        "answer_questions.jsonl", "counselchat.jsonl", "relationship_questions.jsonl"]


def test_eval_files_with_invalid_utf8_are_read_not_refused(tmp_path, capsys, fake_backend):
    replies = tmp_path / "replies.jsonl"
    replies.write_bytes(b'{"id": "a", "context": "hi", "response": "I hear you \xff\xfe, that sounds hard."}\n')
    code, out, err = run(capsys, "eval", "score", replies)
    assert code == 0, err
    assert json.loads(out.splitlines()[0])["id"] == "a"
    suite = tmp_path / "suite.jsonl"
    suite.write_bytes(b'{"id": "q", "question": "How do I say \xff sorry after a fight?"}\n')
    code, _, err = run(capsys, "eval", "run", "--suite", suite, "--out", tmp_path / "run", "--candidates", "1")
    assert code == 0, err
    assert json.loads((tmp_path / "run" / "results.jsonl").read_text().splitlines()[0])["id"] == "q"
