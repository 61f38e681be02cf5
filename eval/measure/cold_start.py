"""`attune ask` as a new process, several times: seconds to the first words, to the end, and peak memory.

To compare with an older commit, run that commit's code with its own environment:
    git worktree add /tmp/before 911e1f6
    python eval/measure/cold_start.py --home DIR --python /path/to/old/venv/bin/python --code /tmp/before
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> int:
    from eval.benchmarks import cold_start

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, required=True, help="an ATTUNE_HOME with the library ingested")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--python", default=sys.executable, help="the interpreter to run `attune ask` with")
    parser.add_argument("--code", type=Path, help="a checkout whose code that interpreter should run")
    parser.add_argument("--question", default="How can I bring up a conflict with my partner without blaming them?")
    args = parser.parse_args()
    if args.code:  # `python -c` puts the working folder first on the path, then PYTHONPATH
        os.environ["PYTHONPATH"] = str(args.code)
        os.chdir(args.code)
    sys.executable = args.python  # cold_start runs sys.executable
    rows = [cold_start(args.home, args.question, None) for _ in range(args.runs)]
    for first, total, rss in rows:
        print(f"first words {first:6.2f} s   end {total:6.2f} s   peak RSS {rss:6.0f} MB")
    print(f"median: first words {statistics.median(r[0] for r in rows):.2f} s, end "
          f"{statistics.median(r[1] for r in rows):.2f} s, peak RSS {statistics.median(r[2] for r in rows):.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
