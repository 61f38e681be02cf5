"""Release a streamed answer sentence by sentence, keeping back what no reader should see: the prompt's own
scaffolding, letter sign-offs and placeholders, people the question never mentioned, paragraphs said twice, and a
sentence cut off by the token limit.

Small models echo the prompt ("Question: ...", "You are Attune, a warm relationship coach"), sign off like a
letter ("Best regards, [Your Name]") and loop; rules can only discard such text, so this discards it before it
is shown, and tells the caller to stop generating once the answer has plainly ended or started to loop.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# A unit ends at sentence punctuation (with any closing quote or bracket) followed by a space, or at a line end.
_UNIT_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)|\n")
_SPACE = re.compile(r"\s*")
# How a finished sentence ends (a closing quote or bracket and a citation may follow), and a line that is not a
# heading: it ends like a sentence or with a colon.
_FINISHED = re.compile(r"[.!?][\"'”’)\]]*\s*(?:\[\d{1,3}\])?\s*$")
_NOT_A_HEADING = re.compile(r"[.!?:][\"'”’)\]]*\s*(?:\[\d{1,3}\])?\s*$")
_MARKER = re.compile(r"\s*\[\d{1,3}\]")
_WORD = re.compile(r"[a-z0-9']+")
# The labels of Attune's prompts and of common chat scaffolding, when a line starts with one.
_SCAFFOLD_LINE = re.compile(
    r"^\W*(?:question|standalone question|last question|passages?(?: from the library)?(?: \d+)?|sources?|"
    r"conversation|context|system|user|assistant|instructions?|note to self)\s*(?:\[\d+\])?\s*:",
    re.IGNORECASE,
)
# The model introducing itself as the prompt described it.
_SELF_INTRO = re.compile(r"\b(?:you\s*(?:are|'re|’re)|i\s*(?:am|'m|’m)|this is|as)\s+attune\b", re.IGNORECASE)
_ANSWER_LABEL = re.compile(r"^(\W*)(?:answer|response|reply|coach|attune)\s*:\s*", re.IGNORECASE)
# A letter's closing: from here on nothing belongs in an answer.
_SIGN_OFF = re.compile(
    r"^\W*(?:(?:best|kind|warm|warmest|with)?\s*regards|sincerely|yours(?: truly| sincerely)?|best wishes|"
    r"warm wishes|all the best|cheers|take care|with love|love)\s*,?\W*$"
    r"|^\W*(?:best|kind|warm)(?: regards)?\s*,\s*\[",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(
    r"\s*\[(?:your|their|my|his|her|the|partner'?s?|friend'?s?|person'?s?|insert)?[^\]\n]{0,20}?"
    r"\b(?:name|signature|date|contact|number)\]",
    re.IGNORECASE,
)
# People an answer may only name when the question did: "your husband" to someone who asked about a partner, or
# "your sister" out of nowhere, states a fact about their life that they never gave. Generic words (partner,
# spouse, loved ones, family, friends, people) are always fine.
_PEOPLE = {
    "husband": "husband|hubby", "wife": "wife", "boyfriend": "boyfriend|bf", "girlfriend": "girlfriend|gf",
    "fiance": "fianc[ée]e?|fiance", "ex": "ex|ex-\\w+", "sister": "sister", "brother": "brother",
    "mother": "mother|mum|mom|mam", "father": "father|dad", "son": "son", "daughter": "daughter",
    "children": "kids?|children|child", "boss": "boss|manager|supervisor", "coworker": "co-?workers?|colleagues?",
    "roommate": "room-?mates?|flat-?mates?|housemates?", "in-laws": "in-laws?|mother-in-law|father-in-law",
    "teenager": "teen(?:ager)?s?",
}
_PERSON_IN_QUESTION = {k: re.compile(rf"\b(?:{v})\b", re.IGNORECASE) for k, v in _PEOPLE.items()}
_YOUR_PERSON = {k: re.compile(rf"\byour (?:\w+ )?(?:{v})\b", re.IGNORECASE) for k, v in _PEOPLE.items()}
# Words in a row shared with the prompt that mean it is being recited rather than answered.
_ECHO_WORDS = 6
# A line without sentence punctuation that shares this many words in a row with a passage's title or section is
# that heading copied, not an answer.
_HEADING_WORDS = 4
# Sentences whose words mostly repeat an earlier one; after this many in an answer it is looping.
_NEAR_REPEAT = 0.8
_REPEATS_BEFORE_STOP = 2


def _words(text: str) -> list[str]:
    return _WORD.findall(_MARKER.sub(" ", text).lower().replace("’", "'"))


def _runs(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


class AnswerTidier:
    """Feed it text deltas; it returns what is fit to show now. Call `finish()` at the end.

    `stop` turns true when the rest of the generation can only be thrown away (a sign-off, a loop); the caller
    should then stop the model rather than pay for tokens nobody will read.
    """

    def __init__(self, prompt_texts: Iterable[str] = (), titles: Iterable[str] = (), question: str = "") -> None:
        self._echo = set().union(*(_runs(_words(t), _ECHO_WORDS) for t in prompt_texts))
        self._titles = set().union(*(_runs(_words(t), _HEADING_WORDS) for t in titles))
        # Without a question there is nothing to hold an answer to, so no one counts as invented.
        self._invented = [rule for kind, rule in _YOUR_PERSON.items()
                          if question and not _PERSON_IN_QUESTION[kind].search(question)]
        self._pending = ""
        self._said: list[set[str]] = []
        self._repeats = 0
        self.shown = ""
        self.dropped: list[str] = []  # what was kept back, for tests and reports
        self.stop = False

    def feed(self, piece: str) -> str:
        if self.stop:
            return ""
        self._pending += piece
        out = []
        while not self.stop and (end := _UNIT_END.search(self._pending)):
            # The whitespace after a unit belongs to it (paragraph breaks survive, a dropped unit leaves no gap),
            # so a unit is released only once the next one has begun.
            space = _SPACE.match(self._pending, end.end())
            if space is None or space.end() >= len(self._pending):
                break
            unit, self._pending = self._pending[: space.end()], self._pending[space.end() :]
            out.append(self._judge(unit))
        shown = "".join(out)
        self.shown += shown
        return shown

    def finish(self, cut: bool = False) -> str:
        """The rest of the text. `cut`: the model stopped at its token limit, so an unfinished last sentence
        is dropped (unless it is all there is)."""
        rest, self._pending = self._pending, ""
        if self.stop or not rest.strip():
            return ""
        if cut and self.shown.strip() and not _FINISHED.search(rest):
            self.dropped.append(rest)
            return ""
        shown = self._judge(rest)
        self.shown += shown
        return shown

    def _judge(self, unit: str) -> str:
        text = unit.strip()
        if not text:
            return unit if self.shown.strip() else ""  # no blank lines before the answer starts
        if _SIGN_OFF.search(text):
            return self._end(unit)
        if _SCAFFOLD_LINE.search(text) or _SELF_INTRO.search(text):
            return self._drop(unit)
        unit = _ANSWER_LABEL.sub(r"\1", unit, count=1)
        if _PLACEHOLDER.search(unit):
            unit = _PLACEHOLDER.sub("", unit)
            if len(_words(unit)) < 3:
                return self._drop(unit)
        words = _words(unit)
        if not words:
            return unit  # a bare citation marker or punctuation: the citation filter decides
        heading = not _NOT_A_HEADING.search(unit)
        if heading and _runs(words, _HEADING_WORDS) & self._titles:
            return self._drop(unit)
        if _runs(words, _ECHO_WORDS) & self._echo:
            return self._drop(unit)
        if any(rule.search(unit) for rule in self._invented):
            return self._drop(unit)  # it tells the person about someone they never mentioned
        bag = set(words)
        if len(words) >= 4 and any(len(bag & said) / len(bag | said) >= _NEAR_REPEAT for said in self._said):
            self._repeats += 1
            if self._repeats >= _REPEATS_BEFORE_STOP:
                self.stop = True
            return self._drop(unit)
        self._said.append(bag)
        return unit

    def _drop(self, unit: str) -> str:
        self.dropped.append(unit)
        return ""

    def _end(self, unit: str) -> str:
        self.stop = True
        self.dropped.append(unit + self._pending)
        self._pending = ""
        return ""
