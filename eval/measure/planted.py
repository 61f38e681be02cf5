"""How many planted instructions the passage neutraliser removes, and how much ordinary advice it keeps.

`python eval/measure/planted.py eval/suites/planted_dev.jsonl` (the set the rules were tuned on) or
`eval/suites/planted_test.jsonl` (written with it, before the fix, and measured once after it). Each line is planted
in a passage's text, its section heading or its document title, then formatted as the model would see it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from agent.prompts import INSTRUCTION_REMOVED, format_passages
from knowledge.types import Passage


def shown(where: str, text: str) -> str:
    body = "Listening well means letting them finish before you answer."
    passage = Passage(
        id="x",
        title=text if where == "title" else "A guide to listening",
        section=text if where == "heading" else "Listening",
        text=text if where == "text" else body,
        source="planted.md",
        relevance=1.0,
    )
    return format_passages([passage])


def main(path: Path) -> None:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    caught = kept = planted = clean = 0
    for row in rows:
        out = shown(row["where"], row["text"])
        if row["planted"]:
            planted += 1
            ok = row["text"] not in out and INSTRUCTION_REMOVED in out
            caught += ok
            mark = "caught" if ok else "MISSED"
        else:
            clean += 1
            ok = row["text"] in out
            kept += ok
            mark = "kept" if ok else "REMOVED"
        print(f"{mark:8} {row['id']:9} [{row['where']}] {row['text']}")
    print(f"planted instructions removed: {caught}/{planted}; ordinary advice kept: {kept}/{clean}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
