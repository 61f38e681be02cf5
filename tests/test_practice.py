"""Practice sessions with a scripted model: scenarios, the partner's state machine and moves, the coach's
feedback and rewrites, the SQLite store, the summary, and the `attune practice` / `attune sessions` commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from agent.backends.fake import ScriptedChatModel
from agent.cli import main
from agent.practice.feedback import PracticeCoach, rule_rewrite
from agent.practice.partner import Partner, PartnerLine, clean_line, partner_messages
from agent.practice.scenarios import (
    _ABUSE,
    Scenario,
    ScenarioRefused,
    get_scenario,
    load_scenarios,
    scenario_from_description,
)
from agent.practice.session import BadTurn, PracticeSession
from agent.practice.state import REVEAL_AT, Move, PartnerState, TurnSignal, advance, choose_move, initial_state
from agent.practice.store import SessionStore
from agent.practice.summary import plot_summary, summarize, to_markdown
from agent.safety import check_message

BLAMING = "You never listen to me and you are so selfish. This is all your fault."
GENTLE = "I feel hurt when our plans change at the last minute, and I'd like us to find a way to talk about it."
WARM = TurnSignal(blame=(), warmth=("i_statement", "need"))
COLD = TurnSignal(blame=("criticism",), warmth=())


# --- scenarios -------------------------------------------------------------------------------------------


def test_at_least_twelve_scenarios_across_every_relationship():
    scenarios = load_scenarios()
    assert len(scenarios) >= 12
    by_relationship = {r: [s for s in scenarios.values() if s.relationship == r] for r in
                       ("partner", "friend", "family", "coworker")}
    assert all(len(v) >= 3 for v in by_relationship.values()), {k: len(v) for k, v in by_relationship.items()}
    assert {s.difficulty for s in scenarios.values()} == {"easy", "medium", "hard"}
    assert len({s.style for s in scenarios.values()}) >= 5
    for s in scenarios.values():
        assert s.interests and s.needs and s.facts and s.stance and s.opening_line and s.reveal
        text = " ".join([s.situation, s.position, *s.stance, *s.facts, s.opening_line, s.reveal])
        assert not _ABUSE.search(text), s.id


def test_an_unknown_scenario_names_the_way_to_list_them():
    with pytest.raises(ScenarioRefused, match="attune practice --list"):
        get_scenario("nope")


def test_a_described_conflict_becomes_a_validated_scenario_without_a_model():
    s = scenario_from_description("My sister keeps borrowing my car and returns it with an empty tank.",
                                  relationship="family", name="Dana")
    assert isinstance(s, Scenario) and s.custom and s.relationship == "family" and s.name == "Dana"
    assert s.topic.startswith("my sister keeps borrowing my car")
    assert s.title == "My sister keeps borrowing my car and ..."
    assert s.situation.startswith("My sister")


def test_the_model_drafts_the_other_side_when_its_json_is_valid():
    draft = {"title": "The car", "position": "Dana thinks sharing is normal in a family.",
             "stance": "It's a family car, basically.", "hidden_interest": "Dana can't afford her own car.",
             "fact": "I filled it up last month.", "opening_line": "What, the car again?"}
    model = ScriptedChatModel(replies=[json.dumps(draft)])
    s = scenario_from_description("My sister keeps borrowing my car and returns it empty.", model=model)
    assert s.opening_line == "What, the car again?" and s.reveal == "Dana can't afford her own car."
    half = {**draft, "title": "My brother keeps cancelling [X]", "fact": "He always says [Y] but I",
            "opening_line": "Look, I was going to"}
    s3 = scenario_from_description("My sister keeps borrowing my car and returns it empty.",
                                   model=ScriptedChatModel(replies=[json.dumps(half)]))
    assert s3.stance == ["It's a family car, basically."]  # usable fields kept ...
    assert "[" not in s3.title and s3.facts == ["There's more going on for me than you know."]  # ... junk dropped
    assert s3.opening_line == "You said you wanted to talk. What's going on?"
    junk = ScriptedChatModel(replies=["not json at all"])
    s2 = scenario_from_description("My sister keeps borrowing my car and returns it empty.", model=junk)
    assert s2.opening_line == "You said you wanted to talk. What's going on?"


@pytest.mark.parametrize(
    ("description", "message"),
    [
        ("too short", "at least 20 characters"),
        ("My partner hits me when he is angry and I want to calm him down.", "abuse or danger"),
        ("x" * 1300, "keep it under 1200"),
    ],
)
def test_unusable_or_abusive_descriptions_are_refused(description, message):
    with pytest.raises(ScenarioRefused, match=message):
        scenario_from_description(description)


# --- the partner's state, without any model ---------------------------------------------------------------


def test_blame_closes_the_partner_and_contempt_closes_it_twice_as_fast():
    start = initial_state("medium")
    assert advance(start, COLD).openness == start.openness - 1
    assert advance(PartnerState(3), TurnSignal(blame=("contempt",), warmth=())).openness == 1
    assert advance(PartnerState(0), COLD).openness == 0  # floors at escalated


def test_one_nice_sentence_is_not_enough_to_make_the_partner_give_in():
    state = initial_state("medium")
    moves = []
    for _ in range(3):
        state = advance(state, WARM)
        move = choose_move(state, WARM)
        state = replace(state, last_move=move)
        moves.append(move)
    assert moves[0] is not Move.CONCEDE and Move.CONCEDE not in moves[:2]
    assert moves[-1] is Move.CONCEDE
    assert state.revealed  # the hidden need came out on the way


def test_hard_partners_need_a_streak_of_warm_turns():
    state = initial_state("hard")
    once = advance(state, WARM)
    assert once.openness == state.openness and once.warm_streak == 1
    assert advance(once, WARM).openness == state.openness + 1
    assert advance(once, COLD).warm_streak == 0


def test_a_blamed_partner_asserts_itself_whatever_its_openness():
    assert choose_move(PartnerState(3), COLD) is Move.ASSERT
    assert choose_move(PartnerState(0), None) is Move.ASSERT
    assert choose_move(PartnerState(2, last_move=Move.FACTS), WARM) is Move.PROPOSE


def test_the_state_round_trips_through_json():
    state = PartnerState(3, "hard", 4, 1, True, Move.PROPOSE, need_said=False)
    assert PartnerState.from_json(json.loads(json.dumps(state.to_json()))) == state
    saved_before_need_said = {k: v for k, v in replace(state, need_said=True).to_json().items() if k != "need_said"}
    assert PartnerState.from_json(saved_before_need_said).need_said


def test_the_hidden_need_is_said_on_the_first_line_after_opening_up_whatever_the_move():
    s = get_scenario("work-missed-deadline")
    history = [(GENTLE, "")]
    # Opened up right after a proposal (the case that used to skip the reveal), then straight to conceding.
    for state, move in [(PartnerState(3, revealed=True, last_move=Move.PROPOSE), Move.PROPOSE),
                        (PartnerState(4, revealed=True, last_move=Move.PROPOSE), Move.CONCEDE),
                        (PartnerState(2, revealed=True, last_move=Move.FACTS), Move.FACTS)]:
        line = Partner(ScriptedChatModel(), s).reply(state, move, history)
        assert line.text.startswith(s.reveal) and line.source == "script"
        told = replace(state, need_said=True)
        assert s.reveal not in Partner(ScriptedChatModel(), s, model_lines=False).reply(told, move, history).text
    card = Partner(ScriptedChatModel(), s, model_lines=False)
    held = card.reply(PartnerState(3, revealed=True), Move.ASSERT, history)
    assert s.reveal not in held.text  # blamed right after opening up: it holds its ground first


# --- the partner's lines ---------------------------------------------------------------------------------


def test_hidden_interests_reach_the_prompt_only_once_revealed():
    s = get_scenario("plans-changed")
    closed = partner_messages(s, PartnerState(1), Move.ASSERT, [(BLAMING, "")])
    opened = partner_messages(s, PartnerState(3, revealed=True), Move.PROPOSE, [(GENTLE, "")])
    assert all(s.interests[0] not in m.text for m in closed) and s.interests[0] in opened[-1].text
    assert "Stand your ground" in closed[-1].text and BLAMING in closed[-1].text


def test_the_partner_prompt_keeps_one_prefix_as_the_session_goes_on():
    """Only the last message changes between turns, so the KV state of the dialogue so far can be reused."""
    s = get_scenario("plans-changed")
    turn1 = partner_messages(s, PartnerState(1), Move.ASSERT, [(BLAMING, "")])
    turn2 = partner_messages(s, PartnerState(3, revealed=True), Move.PROPOSE, [(BLAMING, "Fine."), (GENTLE, "")])
    assert turn1[0].text == turn2[0].text and turn1[1].text == turn2[1].text
    assert turn2[2].text == BLAMING and "next move" in turn2[-1].text


@pytest.mark.parametrize(
    "raw",
    ["As an AI, I can't role-play.", "Here's a response: fine.", "It's important to use I-statements.",
     "I'm sorry, I can't help with that.", "  ", "(to the previous person) okay",
     "I'm so sorry to hear that. You're not alone in this."],
)
def test_out_of_character_lines_are_rejected(raw):
    assert clean_line(raw, get_scenario("plans-changed")) is None


def test_partner_lines_are_brief_and_never_cut_off():
    s = get_scenario("plans-changed")
    assert clean_line("One. Two! Three? Four.", s) == "One. Two!"
    assert clean_line("I did text you. I was going to say that the van", s) == "I did text you."


def test_the_partner_falls_back_to_the_scenario_when_the_model_breaks_character():
    s = get_scenario("plans-changed")
    good = Partner(ScriptedChatModel(replies=["Sam: Look, Jamie was desperate. What was I meant to do?"]), s)
    line = good.reply(PartnerState(1), Move.ASSERT, [(BLAMING, "")])
    assert line.source == "model" and line.text == "Look, Jamie was desperate. What was I meant to do?"
    coachy = Partner(ScriptedChatModel(default_reply="It's important to listen to your partner."), s)
    line = coachy.reply(PartnerState(1), Move.FACTS, [(GENTLE, "")])
    assert line.source == "script" and line.text in s.facts
    assert len(coachy.model.history) == 3  # three drafts, each out of character, then the card
    caving = Partner(ScriptedChatModel(default_reply="You're right, I'm so sorry."), s)
    assert caving.reply(PartnerState(1), Move.ASSERT, [(BLAMING, "")]).source == "script"


def test_the_partner_drafts_again_when_a_line_breaks_character_and_keeps_the_first_that_fits():
    s = get_scenario("plans-changed")

    class Recording(ScriptedChatModel):
        sampling: list[dict] = []

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            self.sampling.append({k: kwargs[k] for k in ("temperature", "seed") if k in kwargs})
            return super()._generate(messages, stop, run_manager, **kwargs)

    model = Recording(replies=["As an AI, I can't role-play.", "You're right, I'm so sorry.",
                               "Jamie needed me, and I thought you'd understand.", "Never reached."])
    partner = Partner(model, s, candidates=4)
    line = partner.reply(PartnerState(1), Move.ASSERT, [(BLAMING, "")])
    assert line == PartnerLine("Jamie needed me, and I thought you'd understand.", Move.ASSERT, "model")
    assert len(partner.rejected) == 2 and model.replies == ["Never reached."]
    assert model.sampling[0] == {} and all(d["temperature"] > 0.5 for d in model.sampling[1:])  # greedy, then sampled
    assert len({d["seed"] for d in model.sampling[1:]}) == 2
    swapped = Partner(ScriptedChatModel(default_reply=f"Hey {s.name}, I'm sorry for what you're going through."), s)
    assert swapped.reply(PartnerState(2), Move.FACTS, [(GENTLE, "")]).source == "script"  # talks to itself
    one = Partner(ScriptedChatModel(replies=["As an AI, I can't role-play.", "Jamie needed me."]), s, candidates=1)
    assert one.reply(PartnerState(1), Move.ASSERT, [(BLAMING, "")]).source == "script"


# --- the coach -------------------------------------------------------------------------------------------


def test_blame_scores_lower_is_flagged_and_its_rewrite_scores_higher(hashing_scorer):
    s = get_scenario("plans-changed")
    coach = PracticeCoach(hashing_scorer, ScriptedChatModel(replies=["You are wrong."]), s)
    blamed, gentle = coach.score(s.opening_line, BLAMING), coach.score(s.opening_line, GENTLE)
    assert blamed.non_blame.score < gentle.non_blame.score
    assert blamed.non_blame.flagged and "criticism" in blamed.non_blame.horsemen
    fb = coach.feedback(s.opening_line, BLAMING, blamed)
    assert 'Criticism: "You never listen"' in fb.feedback and "your fault" in fb.feedback
    assert fb.rewrite_source == "rules"  # the model's "You are wrong." did not score better
    assert fb.rewrite_scores is not None and fb.rewrite_scores.better_than(blamed)
    assert fb.rewrite.startswith("I feel unheard when our plans change at the last minute.")


def test_a_better_model_rewrite_is_kept(hashing_scorer):
    s = get_scenario("plans-changed")
    better = "I feel hurt when plans change late, and I need us to talk about it. What happened for you?"
    coach = PracticeCoach(hashing_scorer, ScriptedChatModel(replies=[better]), s)
    fb = coach.feedback(s.opening_line, BLAMING, coach.score(s.opening_line, BLAMING))
    assert (fb.rewrite, fb.rewrite_source) == (better, "model")


def test_a_model_rewrite_that_drops_the_meaning_for_sympathy_is_not_used(hashing_scorer):
    s = get_scenario("plans-changed")
    sympathy = "I'm so sorry to hear that you're going through this. What would help you feel supported?"
    off_topic = "I feel happy about the weather, and I'd like a sandwich. What do you think?"
    still_blaming = "I understand that you are so selfish, but I feel hurt when our plans change. Can we talk?"
    for reply in (sympathy, off_topic, still_blaming):
        coach = PracticeCoach(hashing_scorer, ScriptedChatModel(replies=[reply]), s)
        fb = coach.feedback(s.opening_line, BLAMING, coach.score(s.opening_line, BLAMING))
        assert fb.rewrite_source == "rules" and fb.rewrite != reply


def test_the_rule_rewrite_keeps_blame_free_sentences_and_adds_what_is_missing(hashing_scorer):
    s = get_scenario("chores-unequal")
    text = "You are so lazy. The laundry has been there since Monday."
    rewrite = rule_rewrite(text, hashing_scorer.score("", text), s)
    assert "lazy" not in rewrite and "The laundry has been there since Monday." in rewrite
    assert rewrite.startswith("I feel hurt when I end up doing most of the housework.")
    assert rewrite.endswith("?")


# --- sessions and the store ------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "practice.sqlite3")


def test_a_session_saves_turns_scores_rewrites_and_replies(store, hashing_scorer):
    model = ScriptedChatModel(default_reply="Fine. Say what you came to say.")
    session = PracticeSession.start(store, get_scenario("plans-changed"), model, hashing_scorer, check_message)
    first, second = session.say(BLAMING), session.say(GENTLE)
    assert first.non_blame < second.non_blame and first.horsemen == ["criticism"] and not second.horsemen
    assert first.partner and second.partner and first.rewrite
    record = store.load(session.id)
    assert [t.user for t in record.active_turns] == [BLAMING, GENTLE]
    assert record.state == second.state_after


@pytest.mark.parametrize("scenario_id", ["work-missed-deadline", "plans-changed"])
def test_a_session_that_says_revealed_has_said_the_hidden_need(store, hashing_scorer, scenario_id):
    scenario = get_scenario(scenario_id)
    session = PracticeSession.start(store, scenario, ScriptedChatModel(default_reply="Okay."), hashing_scorer,
                                    check_message)
    warm = GENTLE + " What has it been like for you?"
    turns = []
    # Warm until listening, neutral until the partner has just proposed, then warm: it opens up right after a
    # proposal, the case where the need used to go unsaid.
    while session.record().state["openness"] < REVEAL_AT - 1:
        turns.append(session.say(warm))
    while session.record().state["last_move"] != "propose":
        turns.append(session.say("Okay."))
    turns += [session.say(warm) for _ in range(3)]
    revealed = [t for t in turns if t.state_after and t.state_after["revealed"]]
    assert revealed and revealed[0].state_before["last_move"] == "propose"
    said = [t for t in turns if t.partner and scenario.reveal in t.partner]
    assert len(said) == 1 and said[0].id == revealed[0].id  # on the turn it opened up, and only once
    assert all(t.state_after["need_said"] for t in revealed)


def test_the_user_turn_is_saved_before_the_model_is_called(store, hashing_scorer):
    class Broken(ScriptedChatModel):
        def _generate(self, *args, **kwargs):
            raise RuntimeError("the model died")

    session = PracticeSession.start(store, get_scenario("plans-changed"), Broken(), hashing_scorer, check_message)
    with pytest.raises(RuntimeError):
        session.say(GENTLE)
    pending = store.load(session.id).active_turns
    assert [t.user for t in pending] == [GENTLE] and pending[0].pending
    resumed = PracticeSession.resume(store, session.id, ScriptedChatModel(default_reply="Okay."), hashing_scorer,
                                     check_message)
    with pytest.raises(BadTurn, match="no reply yet"):
        resumed.say("another")
    done = resumed.finish_pending()
    assert done is not None and done.partner and not done.pending


def test_try_again_keeps_both_branches_and_compares_them(store, hashing_scorer):
    session = PracticeSession.start(store, get_scenario("plans-changed"), ScriptedChatModel(default_reply="Hm."),
                                    hashing_scorer, check_message)
    session.say(GENTLE)
    first = session.say(BLAMING)
    comparison = session.retry(GENTLE)
    assert comparison.first.id == first.id and comparison.retry.attempt == 2 and comparison.retry_better
    assert comparison.retry.state_before == first.state_before  # replayed from the same point
    record = store.load(session.id)
    assert [t.user for t in record.active_turns] == [GENTLE, GENTLE]
    assert [(t.idx, t.attempt, t.active) for t in record.turns] == [(1, 1, True), (2, 1, False), (2, 2, True)]
    md = to_markdown(record)
    assert "Turn 2 (replaced by a retry)" in md and "Turn 2, attempt 2" in md and BLAMING in md


def test_a_retry_that_scores_worse_keeps_the_first_try_in_the_conversation(store, hashing_scorer):
    session = PracticeSession.start(store, get_scenario("plans-changed"), ScriptedChatModel(default_reply="Hm."),
                                    hashing_scorer, check_message)
    first = session.say(GENTLE)
    comparison = session.retry(BLAMING)
    assert not comparison.retry_better
    record = store.load(session.id)
    assert [t.user for t in record.active_turns] == [GENTLE]  # the better first try stays
    assert [(t.idx, t.attempt, t.active) for t in record.turns] == [(1, 1, True), (1, 2, False)]
    assert record.state == first.state_after  # and the partner's openness is the one after it
    assert "Turn 1, attempt 2" in to_markdown(record) and BLAMING in to_markdown(record)


def test_bad_turns_are_refused_with_a_clear_message(store, hashing_scorer):
    session = PracticeSession.start(store, get_scenario("plans-changed"), ScriptedChatModel(), hashing_scorer,
                                    check_message, max_turn_chars=50)
    with pytest.raises(BadTurn, match="empty"):
        session.say(" \x00\x07 ")
    with pytest.raises(BadTurn, match="under 50"):
        session.say("x" * 51)
    with pytest.raises(BadTurn, match="no turn to try again"):
        session.retry("Can we talk?")
    assert store.load(session.id).turns == ()


def test_summary_gives_trend_strength_next_step_and_a_png(store, hashing_scorer, tmp_path):
    session = PracticeSession.start(store, get_scenario("plans-changed"), ScriptedChatModel(default_reply="Hm."),
                                    hashing_scorer, check_message)
    for text in (BLAMING, BLAMING, GENTLE, GENTLE + " What is it like for you?"):
        session.say(text)
    summary = summarize(store.load(session.id))
    assert [p.flagged for p in summary.points] == [True, True, False, False]
    assert summary.trend == "improving" and summary.slope > 0
    assert "I-statement" in summary.strength and summary.practise_next.startswith("Criticism")
    png = plot_summary(summary, tmp_path / "plot.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_the_next_step_is_never_a_skill_the_session_already_showed(store, hashing_scorer):
    def next_step(*turns: str) -> str:
        session = PracticeSession.start(store, get_scenario("plans-changed"), ScriptedChatModel(default_reply="Hm."),
                                        hashing_scorer, check_message)
        for text in turns:
            session.say(text)
        return summarize(store.load(session.id)).practise_next

    asked = "I feel hurt when plans change. What was going on for you? How did the week feel on your side?"
    assert "curious question" not in next_step(GENTLE, asked)
    assert "curious question" in next_step(GENTLE, GENTLE)


# --- the commands ----------------------------------------------------------------------------------------


@pytest.fixture
def fake_env(monkeypatch, hashing_embedder):
    monkeypatch.setenv("ATTUNE_MODEL__BACKEND", "fake")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_practice_list_json_has_id_title_relationship(capsys):
    code, out, _ = run(capsys, "practice", "--list", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) >= 12 and all({"id", "title", "relationship"} <= set(r) for r in rows)


def test_practice_say_json_then_sessions_list_and_show(capsys, fake_env):
    code, out, err = run(capsys, "practice", "--scenario", "plans-changed", "--say", BLAMING, "--say", GENTLE,
                         "--json")
    assert code == 0, err
    result = json.loads(out)
    assert set(result) >= {"session_id", "turns", "state"}
    t1, t2 = result["turns"]
    assert {"user", "scores", "feedback", "rewrite", "partner"} <= set(t1)
    assert t1["scores"]["non_blame"]["score"] < t2["scores"]["non_blame"]["score"]
    assert t1["scores"]["non_blame"]["flags"][0]["kind"] == "criticism"
    assert t1["rewrite_scores"]["non_blame"]["score"] > t1["scores"]["non_blame"]["score"]
    assert t1["partner"] and t2["partner"]

    code, out, _ = run(capsys, "sessions", "--json")
    assert code == 0 and [s["session_id"] for s in json.loads(out)] == [result["session_id"]]
    code, out, _ = run(capsys, "sessions", "show", result["session_id"])
    assert code == 0 and out.startswith("# Practice: Plans changed at the last minute") and BLAMING in out


def test_practice_end_writes_the_summary_and_plot(capsys, fake_env):
    code, out, err = run(capsys, "practice", "--scenario", "phone-at-dinner", "--say", GENTLE, "--retry",
                         "I miss our talks at dinner. Could we put phones away?", "--end", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["retry"]["retry"]["attempt"] == 2 and Path(result["plot"]).is_file()
    assert result["summary"]["turns"][0]["turn"] == 1


def test_a_described_conflict_can_be_practised_and_resumed(capsys, fake_env):
    describe = "My brother keeps cancelling our weekly call at the last minute."
    code, out, err = run(capsys, "practice", "--describe", describe, "--relationship", "family", "--name", "Chris",
                         "--say", GENTLE, "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first["scenario"].startswith("custom-my-brother-keeps")
    code, out, err = run(capsys, "practice", "--resume", first["session_id"], "--say", "Can we talk?", "--json")
    assert code == 0, err
    assert [t["user"] for t in json.loads(out)["turns"]] == [GENTLE, "Can we talk?"]
    code, out, _ = run(capsys, "sessions", "show", first["session_id"])
    assert "With: Chris (your relative)" in out and describe in out


def test_interactive_practice_reads_turns_and_commands_from_stdin(capsys, fake_env, monkeypatch):
    lines = iter(["I feel lonely at dinner. Could we talk?", "/retry I miss you at dinner.", "/help", "/end"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    code, out, err = run(capsys, "practice", "--scenario", "phone-at-dinner")
    assert code == 0, err
    assert "Robin: Oh, sorry, sorry." in out and "coach: non-blame" in out and "compare: first try" in out
    assert "Trend:" in out and "Plot:" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["practice", "--scenario", "nope", "--say", "hi"], "no scenario 'nope'"),
        (["practice", "--scenario", "plans-changed", "--json"], "--json needs --say"),
        (["practice", "--say", "hi"], "say which scenario"),
        (["practice", "--scenario", "plans-changed", "--say", "   "], "the turn is empty"),
        (["practice", "--describe", "He hits me.", "--say", "hi"], "at least 20 characters"),
        (["practice", "--resume", "feedbeef", "--say", "hi"], "no saved session 'feedbeef'"),
        (["sessions", "show", "feedbeef"], "no saved session 'feedbeef'"),
    ],
)
def test_bad_practice_input_exits_2_with_one_line(capsys, fake_env, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and err.count("\n") == 1 and message in err, err


@pytest.mark.parametrize("command", [["practice"], ["sessions"], ["sessions", "show"]])
def test_practice_commands_have_help(capsys, command):
    with pytest.raises(SystemExit) as exc:
        main([*command, "--help"])
    assert exc.value.code == 0 and "usage: attune" in capsys.readouterr().out


KILL_SCRIPT = """
import sys, threading
from agent.backends import fake
from agent import app
from conftest import HashingEmbeddings  # the tests folder is on PYTHONPATH

app.make_embeddings = lambda *_: HashingEmbeddings()
original = fake.ScriptedChatModel._next_reply
def next_reply(self, messages):
    # The first call about turn 2 (the partner's reply; it may draft several lines): hang as a slow model would.
    if "so selfish" in str(messages[-1].content):
        open(sys.argv[1], "w").write("in flight")
        threading.Event().wait()
    return original(self, messages)
fake.ScriptedChatModel._next_reply = next_reply
from agent.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.slow  # a second process or a long computation
def test_a_session_survives_kill_9_mid_reply_with_every_user_turn_kept(tmp_path, capsys, fake_env):
    marker = tmp_path / "in-flight"
    env = {**os.environ, "ATTUNE_MODEL__BACKEND": "fake", "PYTHONPATH": str(Path(__file__).parent)}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(marker), "practice", "--scenario", "plans-changed",
         "--say", GENTLE, "--say", BLAMING, "--say", "never reached"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the reply never started"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    import sqlite3

    with sqlite3.connect(Path(os.environ["ATTUNE_HOME"]) / "practice.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    code, out, _ = run(capsys, "sessions", "--json")
    (listed,) = json.loads(out)
    assert code == 0 and listed["turns"] == 2
    code, out, _ = run(capsys, "sessions", "show", listed["session_id"], "--json")
    turns = json.loads(out)["turns"]
    assert [t["user"] for t in turns] == [GENTLE, BLAMING]
    assert turns[0]["partner"] and turns[1]["partner"] is None  # only the reply in flight was lost

    code, out, err = run(capsys, "practice", "--resume", listed["session_id"], "--say", "I'm sorry. Can we talk?",
                         "--json")
    assert code == 0, err
    resumed = json.loads(out)["turns"]
    assert [t["user"] for t in resumed][:2] == [GENTLE, BLAMING] and all(t["partner"] for t in resumed)


# --- ended means ended -------------------------------------------------------------------------------------


def test_an_ended_session_takes_no_more_turns_and_its_record_agrees(store, hashing_scorer):
    model = ScriptedChatModel(default_reply="Okay.")
    session = PracticeSession.start(store, get_scenario("plans-changed"), model, hashing_scorer, check_message)
    session.say(GENTLE)
    session.end()
    for act in (lambda: session.say("One more thing."), lambda: session.retry("Let me try again.")):
        with pytest.raises(BadTurn, match="has ended"):
            act()
    resumed = PracticeSession.resume(store, session.id, model, hashing_scorer, check_message)
    with pytest.raises(BadTurn, match="has ended"):
        resumed.say("Hello again.")
    record = store.load(session.id).to_json()
    assert record["ended"] is True and record["ended_reason"] == "user"
    assert [t["user"] for t in record["turns"]] == [GENTLE]
    ended_at = store.load(session.id).ended_at
    time.sleep(0.01)
    session.end()  # ending twice changes nothing
    assert ended_at is not None and store.load(session.id).ended_at == ended_at


def test_a_session_stopped_for_safety_never_answers_the_disclosure_on_resume(store, hashing_scorer):
    from agent.practice.session import SafetyStop

    model = ScriptedChatModel(default_reply="Okay.")
    session = PracticeSession.start(store, get_scenario("plans-changed"), model, hashing_scorer, check_message)
    with pytest.raises(SafetyStop):
        session.say("He hits me when he drinks and I am scared to go home.")
    resumed = PracticeSession.resume(store, session.id, model, hashing_scorer, check_message)
    assert resumed.finish_pending() is None
    turn = store.load(session.id).active_turns[0]
    assert turn.partner is None and store.load(session.id).ended_reason == "safety"


def test_resuming_an_ended_session_exits_2_and_says_how_to_see_it(capsys, fake_env):
    code, out, err = run(capsys, "practice", "--scenario", "plans-changed", "--say", GENTLE, "--end", "--json")
    assert code == 0, err
    session_id = json.loads(out)["session_id"]
    code, out, err = run(capsys, "practice", "--resume", session_id, "--say", "Can we talk?")
    assert code == 2 and err.count("\n") == 1 and "has ended" in err and f"sessions show {session_id}" in err


def test_a_skilful_turn_is_left_as_it_is_and_no_rewrite_is_drafted(hashing_scorer):
    from agent.practice.feedback import ALREADY_SKILFUL

    class NoCalls(ScriptedChatModel):
        def _generate(self, *args, **kwargs):
            raise AssertionError("a rewrite was drafted for a turn that needs none")

    coach = PracticeCoach(hashing_scorer, NoCalls(), get_scenario("plans-changed"))
    score = coach.score("Sorry, something came up.", GENTLE)
    feedback = coach.feedback("Sorry, something came up.", GENTLE, score)
    assert feedback.rewrite is None and ALREADY_SKILFUL in feedback.feedback
    blaming = coach.score("Sorry, something came up.", BLAMING)
    with pytest.raises(AssertionError, match="rewrite was drafted"):  # a blaming turn still gets one
        coach.feedback("Sorry, something came up.", BLAMING, blaming)


def test_a_practice_turn_with_invalid_utf8_is_cleaned_not_lost(store, hashing_scorer):
    session = PracticeSession.start(store, get_scenario("plans-changed"), ScriptedChatModel(default_reply="Okay."),
                                    hashing_scorer, check_message)
    turn = session.say(b"I feel \xff hurt when plans change.".decode("utf-8", "surrogateescape"))
    assert turn.user.replace("  ", " ") == "I feel hurt when plans change." and turn.partner
    assert store.load(session.id).active_turns[0].user.encode("utf-8")


def test_sessions_made_for_an_owner_are_listed_and_loaded_only_for_that_owner(store, hashing_scorer):
    from agent.practice.store import SessionNotFound

    model = ScriptedChatModel(default_reply="Okay.")
    a = PracticeSession.start(store, get_scenario("plans-changed"), model, hashing_scorer, check_message,
                              owner="browser:a")
    terminal = PracticeSession.start(store, get_scenario("plans-changed"), model, hashing_scorer, check_message)
    assert [r.id for r in store.list(owner="browser:a")] == [a.id]
    assert store.list(owner="browser:b") == []
    with pytest.raises(SessionNotFound):
        store.load(a.id, owner="browser:b")
    with pytest.raises(SessionNotFound):
        store.load(terminal.id, owner="browser:a")  # the terminal's sessions are not any browser's
    assert {r.id for r in store.list()} == {a.id, terminal.id}  # the terminal sees every session


def test_every_card_has_several_lines_for_each_move_and_none_gives_away_the_hidden_need():
    from agent.practice.partner import leaks_card

    for scenario in load_scenarios().values():
        assert len(scenario.proposals) >= 2 and len(scenario.concessions) >= 2, scenario.id
        lines = [*scenario.stance, *scenario.facts, *scenario.proposals, *scenario.concessions]
        assert len(set(lines)) == len(lines), scenario.id
        assert not any(leaks_card(line, scenario, revealed=False) for line in lines), scenario.id


def test_a_saved_custom_scenario_with_one_proposal_and_concession_still_loads():
    data = get_scenario("plans-changed").model_dump()
    old = {k: v for k, v in data.items() if k not in ("proposals", "concessions")}
    old |= {"proposal": "Could we talk on Sunday?", "concession": "Fair, I dropped the ball."}
    scenario = Scenario.model_validate(old)
    assert scenario.proposals == ["Could we talk on Sunday?"] and scenario.concession == "Fair, I dropped the ball."


def test_the_card_fallback_does_not_say_the_same_line_twice():
    from agent.practice.partner import fallback_line
    from agent.practice.state import Move, PartnerState

    scenario = get_scenario("plans-changed")
    said: set[str] = {scenario.opening_line}
    lines = []
    for turn in range(4):
        line = fallback_line(scenario, Move.ASSERT, PartnerState(openness=1, turn=turn), said)
        lines.append(line)
        said.add(line)
    assert len(set(lines)) == 4  # two stance lines, then the card's facts, never a repeat
    everything = {*scenario.stance, *scenario.facts}
    assert set(lines) <= everything
    # Conceding or proposing again, the partner says the card's other lines for that move, then a neighbouring
    # move's, and never goes back to defending its position.
    conceded = []
    for turn in range(4):
        conceded.append(fallback_line(scenario, Move.CONCEDE, PartnerState(openness=4, turn=turn), said))
        said.add(conceded[-1])
    assert conceded[:2] == scenario.concessions or set(conceded[:2]) == set(scenario.concessions)
    assert set(conceded[2:]) <= set(scenario.proposals) and len(set(conceded)) == 4
    proposed = [fallback_line(scenario, Move.PROPOSE, PartnerState(openness=3), said | {scenario.reveal + " x"})]
    assert proposed[0] in scenario.proposals and not set(proposed) & set(scenario.stance)
