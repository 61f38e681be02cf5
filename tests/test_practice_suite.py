"""The practice quality suite: its character checks on hand-written lines, and `attune eval practice` end to end
on the fake model and the hashing embedder."""

from __future__ import annotations

import json

import pytest

from agent.cli import main
from agent.practice.scenarios import get_scenario
from eval.practice_suite import SCRIPTS, _direction_ok, check_line

SCENARIO = get_scenario("plans-changed")


def test_a_plain_line_in_character_passes():
    assert check_line("I had to help Jamie, it was an emergency.", SCENARIO, [SCENARIO.opening_line],
                      "Why did you cancel?", revealed=False) == []


def test_card_leaks_role_swaps_parrots_and_repeats_are_caught():
    hidden = SCENARIO.needs[0]
    assert "card leak" in check_line(f"Okay. {hidden}", SCENARIO, [], "hi", revealed=False)
    assert "card leak" not in check_line(f"Okay. {hidden}", SCENARIO, [], "hi", revealed=True)
    assert "card leak" in check_line("What you need: reassurance.", SCENARIO, [], "hi", revealed=True)
    assert "role swap" in check_line(f"{SCENARIO.name}, you are not in trouble.", SCENARIO, [], "hi", revealed=False)
    for swapped in (f"Hey {SCENARIO.name}, I really appreciate it.", f"I'm sorry, {SCENARIO.name}. I can't."):
        assert "role swap" in check_line(swapped, SCENARIO, [], "hi", revealed=False)
    assert "role swap" not in check_line("Hey, I did text you.", SCENARIO, [], "hi", revealed=False)
    user = "I feel hurt when our plans change at the last minute."
    assert "parrot" in check_line("I feel hurt when our plans change at the last minute.", SCENARIO, [], user,
                                  revealed=False)
    earlier = ["I had to help Jamie, it was really an emergency."]
    assert "repeat" in check_line("I had to help Jamie, it was an emergency really.", SCENARIO, earlier, "hi",
                                  revealed=False)
    assert "out of character" in check_line("As an AI language model, I think you should talk.", SCENARIO, [],
                                            "hi", revealed=False)


@pytest.mark.parametrize(
    ("expected", "openness", "ok"),
    [("up", [1, 1, 2, 2], True), ("up", [1, 1, 1, 1], False), ("not up", [2, 1, 1, 1], True),
     ("not up", [1, 1, 2, 2], False), ("recovers", [1, 0, 0, 1], True), ("recovers", [1, 0, 0, 0], False)],
)
def test_the_expected_direction_of_openness(expected, openness, ok):
    assert _direction_ok(expected, openness) is ok


def test_eval_practice_runs_the_scripts_and_writes_a_report(tmp_path, capsys, monkeypatch, hashing_embedder):
    monkeypatch.setenv("ATTUNE_MODEL__BACKEND", "fake")
    out = tmp_path / "p"
    code = main(["eval", "practice", "--scenarios", "plans-changed,phone-at-dinner", "--scripts", "blaming,skilful",
                 "--out", str(out), "--json"])
    figures = json.loads(capsys.readouterr().out)
    assert code == 0 and figures["runs"] == 4 and figures["partner_lines"] == 12
    assert set(figures["direction_ok"]) == {"blaming", "skilful"}
    assert figures["direction_ok"]["blaming"] == "2/2"  # blame never opens the other person up
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(len(r["turns"]) == 3 for r in rows)
    page = (out / "report.html").read_text()
    assert "plans-changed: blaming" in page and "You never listen to me" in page


def test_eval_practice_refuses_unknown_scripts_and_scenarios(tmp_path, capsys):
    assert main(["eval", "practice", "--scripts", "nice", "--out", str(tmp_path / "x")]) == 2
    assert "no script nice" in capsys.readouterr().err
    assert main(["eval", "practice", "--scenarios", "nowhere", "--out", str(tmp_path / "x")]) == 2
    assert "no scenario nowhere" in capsys.readouterr().err
    assert set(SCRIPTS) == {"skilful", "blaming", "subtle", "mixed", "repairing"}


def test_the_prompts_own_words_and_assistant_refusals_never_pass_as_a_line():
    from agent.practice.partner import clean_line, leaks_card

    card = get_scenario("family-sibling-care")
    # Both seen from Qwen2.5-1.5B in the suite: the move instruction turned into a line, and a refusal.
    told = "I'll keep my private reasons to myself for now and stand my ground."
    assert leaks_card(told, card, revealed=False)
    assert clean_line("I'm sorry, but I can't assist with that.", card) is None
    assert not leaks_card("I can't leave the site before five.", card, revealed=False)
    assert not leaks_card("I know what you want, but it's my week too.", card, revealed=False)
