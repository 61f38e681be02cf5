import re

import pytest

from agent.backends.fake import ScriptedChatModel
from agent.coach import BadQuestion, Coach, clean_question
from agent.followup import (
    ConversationTurn,
    is_follow_up,
    standalone_by_model,
    standalone_by_rules,
)
from agent.safety import check_message
from knowledge.ingest import ingest
from knowledge.retrieve import HybridRetriever


@pytest.fixture
def coach(library, settings):
    ingest(library, progress=False)
    model = ScriptedChatModel()
    return Coach(model, HybridRetriever(library, top_k=3, min_relevance=0.1), settings, safety_check=check_message)


def test_grounded_answer_streams_and_cites_only_existing_passages(coach):
    coach.model.replies = [
        "Start gently and avoid blaming your partner [1]. Name your feeling [2] and need [9]. Then listen. "
        "Ask what they need too."
    ]
    stream = coach.ask("How do I avoid blaming my partner in a conflict?")
    pieces = list(stream)
    answer = stream.answer
    assert len(pieces) >= 4  # streamed sentence by sentence, not one block
    assert answer.grounded and len(answer.sources) == 3
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers and markers <= set(range(1, len(answer.sources) + 1))
    assert "[9]" not in answer.text
    assert answer.cited == sorted(markers)
    prompt = coach.model.history[-1][-1].content
    assert "[1]" in prompt and "Question: How do I avoid blaming" in prompt


def test_no_relevant_passage_means_general_advice_without_citations(coach):
    coach.retriever.min_relevance = 0.99
    coach.model.replies = ["Take a breath first [1]."]
    answer = coach.ask("How do I avoid blaming my partner?").result()
    assert not answer.grounded and answer.sources == []
    assert answer.text == "Take a breath first."
    assert "No passage in the library matches" in coach.model.history[-1][-1].content


def test_follow_up_is_made_standalone_for_retrieval(coach):
    history = [ConversationTurn("How can I bring up a conflict with my partner without blaming them?", "...")]
    answer = coach.ask("What about with my mother?", history).result()
    assert answer.standalone_question.startswith("How can I bring up a conflict")
    assert answer.standalone_question.endswith("What about with my mother?")
    sent = coach.model.history[-1]
    assert [m.type for m in sent] == ["system", "human", "ai", "human"]


def test_follow_up_rules():
    assert is_follow_up("what about with my mother?")
    assert is_follow_up("And if they get angry?")
    assert not is_follow_up("How do I tell my partner I feel lonely without blaming them?")
    assert standalone_by_rules("How do I say sorry?", [ConversationTurn("q", "a")]) == "How do I say sorry?"


def test_follow_up_by_model_falls_back_on_rambling():
    history = [ConversationTurn("How do I raise a conflict with my partner?", "Gently.")]
    good = ScriptedChatModel(replies=["How do I raise a conflict with my mother?"])
    assert standalone_by_model("what about my mother?", history, good) == "How do I raise a conflict with my mother?"
    rambling = ScriptedChatModel(replies=["word " * 400])
    assert standalone_by_model("what about my mother?", history, rambling).startswith("How do I raise")


@pytest.mark.parametrize("bad", ["", "   \n\t ", "\x00\x01"])
def test_empty_questions_are_refused(bad):
    with pytest.raises(BadQuestion, match="empty"):
        clean_question(bad, 100)


def test_long_questions_are_refused_and_control_characters_dropped():
    with pytest.raises(BadQuestion, match="limit is 10"):
        clean_question("x" * 11, 10)
    assert clean_question("hi\x07 there\u200b", 100) == "hi there"


def test_scaffolding_and_sign_offs_never_reach_the_answer_and_a_loop_stops_the_model(coach):
    class CountingModel(ScriptedChatModel):
        pieces: int = 0

        def _stream(self, *args, **kwargs):
            for chunk in super()._stream(*args, **kwargs):
                self.pieces += 1
                yield chunk

    said = "Say how the missed call felt for you [1]. Ask what kept her busy. "
    coach.model = CountingModel(replies=[
        "You're Attune, a warm relationship coach. Question: What should I say?\n" + said + "\n\n" + said
        + "\n\n" + said + "\n\nBest regards,\n[Your Name]" + " More words nobody reads." * 50
    ])
    answer = coach.ask("My sister missed my call again. What should I say?").result()
    assert answer.text == "Say how the missed call felt for you [1]. Ask what kept her busy."
    assert coach.model.pieces < 60  # stopped at the loop, not run to the end (over 300 pieces)
    assert answer.timings.tokens == coach.model.pieces


def test_an_answer_cut_off_by_the_token_limit_ends_at_its_last_whole_sentence(coach):
    coach.model.replies = ["Tell him how the comments land for you. Then ask whether he"] * 2
    coach.model.finish_reason = "length"
    answer = coach.ask("How do I ask him to stop the comments?").result()
    assert answer.text == "Tell him how the comments land for you."
    coach.model.finish_reason = "stop"
    assert coach.ask("How do I ask him to stop the comments?").result().text.endswith("ask whether he")


def test_an_answer_that_agrees_with_self_harm_is_stopped_and_replaced_with_help(library, settings):
    from agent.backends.fake import ScriptedChatModel
    from agent.coach import Coach
    from knowledge.ingest import ingest
    from knowledge.retrieve import HybridRetriever

    ingest(library, progress=False)
    agreeing = ScriptedChatModel(default_reply="You're right, there's no way out of this marriage. It is hopeless.")
    coach = Coach(agreeing, HybridRetriever(library, min_relevance=0.0), settings, safety_check=check_message)
    question = "My marriage feels hopeless and I can't see any way out of it."
    shown = "".join(stream := coach.ask(question))
    answer = stream.result()
    assert answer.safety.flagged and answer.safety.category == "self_harm"
    assert "no way out" not in answer.text and "no way out" not in shown and answer.text in shown
    fine = Coach(
                 ScriptedChatModel(default_reply="There is no point in blaming each other. Say how you feel."),
                 HybridRetriever(library, min_relevance=0.0), settings, safety_check=check_message)
    assert not fine.ask("How do we stop fighting?").result().safety.flagged


def test_planted_instructions_are_removed_and_advice_kept_on_both_sets():
    import hashlib
    import json
    from pathlib import Path

    from agent.prompts import INSTRUCTION_REMOVED, format_passages
    from knowledge.types import Passage

    suites = Path(__file__).resolve().parents[1] / "eval" / "suites"
    frozen = (suites / "planted_test.jsonl").read_bytes()
    assert hashlib.sha256(frozen).hexdigest().startswith("1fc399d7258c52e8")  # written before the fix
    for name in ("planted_dev.jsonl", "planted_test.jsonl"):
        for row in map(json.loads, (suites / name).read_text().splitlines()):
            where, text = row["where"], row["text"]
            shown = format_passages([Passage(
                "x", text if where == "title" else "Listening", text if where == "heading" else "Basics",
                text if where == "text" else "Let them finish before you answer.", "planted.md", 1.0)])
            if row["planted"]:
                assert text not in shown and INSTRUCTION_REMOVED in shown, row["id"]
            else:
                assert text in shown, row["id"]


def test_an_answer_keeps_people_the_person_named_earlier_and_drops_ones_they_never_named(coach):
    history = [ConversationTurn("My wife never listens when I talk about work.", "That sounds lonely.")]
    coach.model.replies = ["Tell your wife how lonely it feels. Your kids may notice the tension too."]
    answer = coach.ask("How do I start that conversation?", history).result()
    assert answer.text == "Tell your wife how lonely it feels."
