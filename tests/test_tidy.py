"""The answer tidier: what a small model adds that no reader should see is kept back, and nothing else."""

import re

import pytest

from agent.prompts import PROMPT_SCAFFOLDING
from agent.tidy import AnswerTidier

CLEAN = (
    "It sounds like the missed birthday left you both hurting. Start with a plain apology [1]: \"I'm sorry I "
    "forgot, and I know it mattered to you.\"\n\nThen ask how it felt for her, and listen before you explain. "
    "You might plan a small dinner together [2].\n\n- Apologise first\n- Listen\n\nWhat do you want her to know?"
)


def tidy(text: str, size: int = 3, cut: bool = False, titles: tuple[str, ...] = ()) -> tuple[str, AnswerTidier]:
    """Feeds the text in pieces of `size` characters, as a stream would, and returns what was shown."""
    tidier = AnswerTidier(PROMPT_SCAFFOLDING, titles)
    shown = "".join(tidier.feed(text[i : i + size]) for i in range(0, len(text), size))
    return shown + tidier.finish(cut), tidier


@pytest.mark.parametrize("size", [1, 2, 5, 17, 1000])
def test_a_clean_answer_passes_unchanged_however_it_is_streamed(size):
    shown, tidier = tidy(CLEAN, size)
    assert shown == CLEAN
    assert tidier.dropped == [] and not tidier.stop


def test_the_prompts_labels_and_recited_instructions_are_kept_back():
    text = (
        "You're Attune, a warm relationship coach. Answer in four to six short, plain sentences. "
        "It sounds painful to be left out. Ask her what the evening meant to her.\n"
        "Question: How do I talk to my sister about her wedding?\n"
        "Passages from the library (quoted material to draw on):\n"
        "Answer: Tell her you want to understand."
    )
    shown, tidier = tidy(text)
    assert shown == (
        "It sounds painful to be left out. Ask her what the evening meant to her.\nTell her you want to understand."
    )
    assert "Attune" not in shown and "Question:" not in shown and "Passages" not in shown
    assert len(tidier.dropped) == 4


def test_a_sign_off_ends_the_answer_and_asks_to_stop_generating():
    text = "I hope this helps you feel closer. Best regards,\n[Your Name]\n\nP.S. Your partner is right."
    shown, tidier = tidy(text)
    assert shown == "I hope this helps you feel closer. "
    assert tidier.stop
    assert tidier.feed(" More text.") == ""


@pytest.mark.parametrize("closing", ["Sincerely,", "Warm regards", "Best, [Name]", "Kind regards, [Your Name]"])
def test_every_kind_of_letter_closing_ends_the_answer(closing):
    shown, tidier = tidy(f"Say how you feel and ask what they need.\n{closing}\nAttune")
    assert shown.strip() == "Say how you feel and ask what they need." and tidier.stop


def test_placeholders_are_removed_and_a_sentence_of_nothing_else_dropped():
    shown, _ = tidy("Hi [Partner's Name], I miss our walks. [Your Name]\nCan we take one on Sunday?")
    assert shown == "Hi, I miss our walks. Can we take one on Sunday?"
    assert not re.search(r"\[[A-Za-z' ]*Name\]", shown)


def test_a_paragraph_said_again_is_dropped_and_a_loop_stops_generation():
    para = "You could say: \"I'm here for you every step of the way.\" This shows you care about her feelings. "
    shown, tidier = tidy("It makes sense you feel awful. " + para + "\n\n" + para + "\n\n" + para)
    assert shown.count("every step of the way") == 1 and shown.count("This shows you care") == 1
    assert tidier.stop


def test_near_repeats_count_as_repeats_but_short_sentences_do_not():
    text = "Listen to her side before you answer. Listen to her side first before you answer. Yes. Yes. Then plan."
    shown, _ = tidy(text)
    assert shown == "Listen to her side before you answer. Yes. Yes. Then plan."


def test_an_unfinished_last_sentence_is_dropped_only_when_the_model_was_cut_off():
    text = "Tell him how the comments land for you. You might start with how much you"
    assert tidy(text, cut=True)[0] == "Tell him how the comments land for you. "
    assert tidy(text, cut=False)[0] == text
    assert tidy("Only a fragment with no end", cut=True)[0] == "Only a fragment with no end"
    assert tidy("A finished thought [2].", cut=True)[0] == "A finished thought [2]."


def test_a_passage_heading_copied_as_the_first_line_is_dropped_but_a_sentence_using_its_words_is_kept():
    titles = ("What Is Emotional Connection And How to Build It", "How to Build Emotional Connection › 3. Show Empathy")
    text = (
        "How to Build Emotional Connection - Building Strong Relationships\n"
        "Building strong relationships takes time. Learning how to build emotional connection takes practice."
    )
    shown, tidier = tidy(text, titles=titles)
    assert shown == (
        "Building strong relationships takes time. Learning how to build emotional connection takes practice."
    )
    assert tidier.dropped == ["How to Build Emotional Connection - Building Strong Relationships\n"]


def test_a_sentence_about_someone_the_person_never_mentioned_is_dropped():
    question = "My roommate has her boyfriend over every night. How can I bring it up?"
    tidier = AnswerTidier(PROMPT_SCAFFOLDING, (), question)
    text = (
        "It sounds tiring to never have the flat to yourself. Your ex may have made you wary of this. "
        "Ask your roommate for a quiet talk, and say what you need. Your partner and your friends can help too."
    )
    shown = "".join(tidier.feed(text[i : i + 4]) for i in range(0, len(text), 4)) + tidier.finish()
    assert "ex" not in shown.split() and "wary" not in shown
    assert "Ask your roommate for a quiet talk" in shown and "Your partner and your friends" in shown
    # Without a question there is nothing to hold the answer to: nobody counts as invented.
    assert tidy("Your ex may have made you wary of this.")[0] == "Your ex may have made you wary of this."


def test_people_named_in_the_question_in_other_words_are_not_invented():
    tidier = AnswerTidier((), (), "My mom keeps commenting on how we raise our kids.")
    text = "Tell your mum how the comments land. Your children will notice you staying calm."
    assert tidier.feed(text + " ") + tidier.finish() == text + " "
