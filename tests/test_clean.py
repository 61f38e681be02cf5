from pathlib import Path

import pytest

from knowledge.clean import (
    clean_text,
    is_clutter_line,
    is_placeholder_latin,
    text_to_markdown,
)
from knowledge.ingest import bundled_files

# Real lines from the articles our user gave us.
FOOTER_000 = """So, take the time to connect with the people who matter to you.

latest video

news via inbox

Nulla turp dis cursus. Integer liberos  euismod pretium faucibua

Leave A Comment
"""


def test_footer_and_everything_after_it_is_dropped():
    cleaned = clean_text(FOOTER_000)
    assert cleaned == "So, take the time to connect with the people who matter to you.\n"


@pytest.mark.parametrize(
    "line",
    [
        "Leave A Comment",
        "Similar Posts",
        "Popular Posts",
        "Last Updated: June 5, 2024By",
        "Sign up for our newsletter",
        "Subscribe to get updates in your inbox",
        "Nulla turp dis cursus. Integer liberos  euismod pretium faucibua",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
    ],
)
def test_clutter_lines_are_recognised(line):
    assert is_clutter_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "Leave space for your partner to answer before you reply.",
        "Similar values help partners understand each other.",
        "Integer values of trust are not how feelings work, and that is fine.",
        "Share your true self, listen with an open heart, and cherish the bonds you create.",
        "Popular advice is not always right for your relationship.",
    ],
)
def test_article_sentences_are_kept(line):
    assert not is_clutter_line(line)
    assert clean_text(line).strip() == line


def test_placeholder_latin_needs_several_latin_words():
    assert is_placeholder_latin("Donec vitae sapien ut nunc tincidunt")
    assert not is_placeholder_latin("Dis is fine")


def test_stray_list_numbers_and_bullets_are_tidied():
    cleaned = clean_text("It shows respect and creates a feeling of validation. 3.\n\n  \u2022 A bond of trust.")
    assert cleaned == "It shows respect and creates a feeling of validation.\n\n- A bond of trust.\n"


def test_headings_are_restored_and_numbered_ones_nest():
    md = text_to_markdown(
        "How to Build Emotional Connection\n\nIt takes time.\n\n1. Open Up and Be Vulnerable\n\n"
        "Opening up is scary. It is also\n\nworth it.",
        title="Title",
    )
    assert md.splitlines()[0] == "# Title"
    assert "## How to Build Emotional Connection" in md
    assert "### 1. Open Up and Be Vulnerable" in md
    assert "Opening up is scary. It is also worth it." in md  # a paragraph split mid-sentence is rejoined


CLUTTER = ["Leave A Comment", "Similar Posts", "Popular Posts", "latest video", "news via inbox", "Nulla turp",
           "Last Updated", "The Mating Grounds"]


def test_bundled_corpus_is_clean_markdown_with_provenance():
    files = bundled_files()
    assert len(files) == 4
    for path in files:
        text = Path(path).read_text(encoding="utf-8")
        assert text.startswith("---\ntitle: ")
        assert "original_file: 00" in text and "supplied_by: our user" in text
        for clutter in CLUTTER:
            assert clutter not in text, (path.name, clutter)
        assert not any(is_clutter_line(line) for line in text.splitlines() if not line.startswith(("title", "---")))
        assert text.count("\n## ") >= 5
