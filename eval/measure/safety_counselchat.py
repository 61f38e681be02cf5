"""Which real CounselChat questions the safety check flags (development data; read each flag by hand).

Usage: python eval/measure/safety_counselchat.py ../shared/data/counselchat_dev.jsonl
"""

from __future__ import annotations

import json
import sys

from agent.safety import check_message


def main(path: str) -> None:
    total, flagged = 0, []
    for line in open(path, encoding="utf-8"):
        row = json.loads(line)
        total += 1
        verdict = check_message(f"{row['title']} {row.get('text') or ''}")
        if verdict.flagged:
            flagged.append((row["question_id"], verdict.category, verdict.span))
    for qid, category, span in flagged:
        print(f"{qid:>5} {category:17} {span!r}")
    print(f"{len(flagged)} of {total} questions flagged ({len(flagged) / total:.1%})")


if __name__ == "__main__":
    main(sys.argv[1])
