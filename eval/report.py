"""The evaluation report: PNG plots (score distributions, per-criterion bars) and an HTML page with tables.

One run gives the coach beside its first drafts and the human references; two runs give a comparison.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

from eval.rubric import EMPATHY_MAX, MECHANISMS, RubricScore
from eval.run import Summary, summaries

_LABELS = {
    "emotional_reactions": "Emotional\nreactions",
    "interpretations": "Interpretations",
    "explorations": "Explorations",
}
_GROUP_NAMES = {"coach": "Coach (final)", "coach_first_draft": "Coach (first draft)", "references": "Therapists"}


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed, nothing opens a window
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path, title: str) -> Path:  # type: ignore[no-untyped-def]
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def plot_criteria(groups: Mapping[str, Summary], path: Path, title: str) -> Path:
    """Grouped bars: mean level per empathy mechanism (0-2) and mean non-blame (0-1), one bar per group."""
    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [3, 1]})
    width = 0.8 / max(len(groups), 1)
    for k, (name, s) in enumerate(groups.items()):
        xs = [i + k * width for i in range(len(MECHANISMS))]
        bars = ax1.bar(xs, [s.empathy[m] for m in MECHANISMS], width, label=f"{name} (n={s.n})")
        ax1.bar_label(bars, fmt="%.2f", fontsize=8)
        b2 = ax2.bar([k * width], [s.non_blame], width)
        ax2.bar_label(b2, fmt="%.2f", fontsize=8)
    ax1.set_xticks([i + width * (len(groups) - 1) / 2 for i in range(len(MECHANISMS))])
    ax1.set_xticklabels([_LABELS[m] for m in MECHANISMS])
    ax1.set_ylim(0, 2.2)
    ax1.set_ylabel("mean level (0 none, 1 weak, 2 strong)")
    ax1.set_title("Empathy (EPITOME)")
    ax1.legend(fontsize=8, loc="upper right")
    ax2.set_xticks([width * (len(groups) - 1) / 2])
    ax2.set_xticklabels(["Non-blame"])
    ax2.set_ylim(0, 1.1)
    ax2.set_ylabel("mean score (1 = no blame)")
    ax2.set_title("Non-blame")
    return _save(fig, path, title)


def plot_distributions(groups: Mapping[str, Sequence[dict]], path: Path, title: str) -> Path:
    """Share of answers at each empathy total (0 to EMPATHY_MAX) and each non-blame score, per group."""
    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    width = 0.8 / max(len(groups), 1)
    totals_axis = range(EMPATHY_MAX + 1)
    for k, (name, scores) in enumerate(groups.items()):
        n = max(len(scores), 1)
        typed = [RubricScore.from_json(s) for s in scores]
        totals = [t.empathy.total for t in typed]
        ax1.bar([t + k * width for t in totals_axis], [totals.count(t) / n for t in totals_axis], width, label=name)
        nb = [round(t.non_blame.score, 2) for t in typed]
        levels = sorted(set(nb) | {1.0})
        ax2.bar([i + k * width for i in range(len(levels))], [nb.count(v) / n for v in levels], width, label=name)
        ax2.set_xticks([i + width * (len(groups) - 1) / 2 for i in range(len(levels))])
        ax2.set_xticklabels([f"{v:.2f}" for v in levels])
    ax1.set_xticks([t + width * (len(groups) - 1) / 2 for t in totals_axis])
    ax1.set_xticklabels([str(t) for t in totals_axis])
    ax1.set_xlabel("empathy total (sum of three levels)")
    ax1.set_ylabel("share of answers")
    ax1.legend(fontsize=8)
    ax2.set_xlabel("non-blame score")
    ax2.set_title("Non-blame")
    ax1.set_title("Empathy")
    return _save(fig, path, title)


def _e(value: object) -> str:
    return html.escape(str(value))


def _levels(scores: dict) -> str:
    """"1/0/2": the empathy levels of one stored score."""
    levels = RubricScore.from_json(scores).empathy.levels()
    return "/".join(str(levels[m]) for m in MECHANISMS)


def _both(scores: dict) -> str:
    """"1/0/2 · 0.75": the empathy levels and the non-blame score."""
    return f"{_levels(scores)} · {RubricScore.from_json(scores).non_blame.score:.2f}"


def _flags(scores: dict) -> str:
    return "; ".join(f"{f.kind}: “{f.span}”" for f in RubricScore.from_json(scores).non_blame.flags) or "none"


def _summary_table(groups: Mapping[str, Summary]) -> str:
    head = "".join(f"<th>{_e(m.replace('_', ' '))}</th>" for m in MECHANISMS)
    rows = "".join(
        f"<tr><td>{_e(name)}</td><td>{s.n}</td>"
        + "".join(f"<td>{s.empathy[m]:.2f}</td>" for m in MECHANISMS)
        + f"<td>{s.empathy_total:.2f}</td><td>{s.non_blame:.3f}</td><td>{s.flagged_share:.0%}</td></tr>"
        for name, s in groups.items()
    )
    return (
        f"<table><tr><th></th><th>answers</th>{head}<th>empathy total (0-{EMPATHY_MAX})</th><th>non-blame</th>"
        f"<th>flagged</th></tr>{rows}</table>"
    )


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:4px 8px;
vertical-align:top;text-align:left}th{background:#f3f3f3}img{max-width:100%}.q{max-width:320px}
.a{max-width:460px;white-space:pre-wrap}
"""


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{_e(title)}</title><style>{_STYLE}</style>"
        f"<body><h1>{_e(title)}</h1>{body}<p><small>Empathy levels are emotional reactions / interpretations / "
        "explorations, 0-2 each (EPITOME, Sharma et al. 2020); non-blame is 1.0 without any of Gottman's four "
        "horsemen or character labels.</small></p></body></html>"
    )


def write_report(rows: Sequence[dict], out_dir: Path, title: str = "Attune evaluation") -> Path:
    groups = summaries(rows)
    named = {_GROUP_NAMES[k]: v for k, v in groups.items()}
    score_lists: dict[str, list[dict]] = {_GROUP_NAMES["coach"]: [r["scores"] for r in rows]}
    if "coach_first_draft" in groups:
        score_lists[_GROUP_NAMES["coach_first_draft"]] = [r["drafts"][0]["scores"] for r in rows]
    if "references" in groups:
        score_lists[_GROUP_NAMES["references"]] = [ref["scores"] for r in rows for ref in r["references"]]
    plot_criteria(named, out_dir / "criteria.png", title)
    plot_distributions(score_lists, out_dir / "distributions.png", title)
    has_refs = "references" in groups
    table_rows = []
    for r in rows:
        ref_cell = ""
        if has_refs:
            refs = r.get("references", [])
            ref_cell = (
                "<td>"
                + (
                    "<br>".join(_both(x["scores"]) for x in refs)
                    or "-"
                )
                + "</td>"
            )
        table_rows.append(
            f"<tr><td>{_e(r['id'])}</td><td class=q>{_e(r['question'])}</td><td class=a>{_e(r['answer'])}</td>"
            f"<td>{_levels(r['scores'])}</td><td>{RubricScore.from_json(r['scores']).non_blame.score:.2f}<br>"
            f"{_e(_flags(r['scores']))}</td>{ref_cell}</tr>"
        )
    ref_head = "<th>therapists: empathy · non-blame</th>" if has_refs else ""
    body = (
        _summary_table(named) + '<img src="criteria.png" alt="mean score per criterion"><img src="distributions.png" '
        'alt="score distributions">'
        + "<h2>Answers</h2><table><tr><th>id</th><th>question</th><th>coach's answer</th><th>empathy</th>"
        f"<th>non-blame, flags</th>{ref_head}</tr>{''.join(table_rows)}</table>"
    )
    path = out_dir / "report.html"
    path.write_text(_page(title, body), encoding="utf-8")
    return path


def write_comparison(a: Sequence[dict], b: Sequence[dict], names: tuple[str, str], out_dir: Path) -> Path:
    """Two runs side by side: summary bars and a per-question table over the ids both runs share."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sa, sb = summaries(a)["coach"], summaries(b)["coach"]
    groups = {names[0]: sa, names[1]: sb}
    plot_criteria(groups, out_dir / "criteria.png", f"{names[0]} vs {names[1]}")
    plot_distributions(
        {names[0]: [r["scores"] for r in a], names[1]: [r["scores"] for r in b]},
        out_dir / "distributions.png",
        f"{names[0]} vs {names[1]}",
    )
    by_id = {r["id"]: r for r in b}
    rows = []
    for r in a:
        other = by_id.get(r["id"])
        if other is None:
            continue
        rows.append(
            f"<tr><td>{_e(r['id'])}</td><td class=q>{_e(r['question'])}</td>"
            f"<td class=a>{_e(r['answer'])}</td><td>{_both(r['scores'])}"
            f"</td><td class=a>{_e(other['answer'])}</td><td>{_both(other['scores'])}</td></tr>"
        )
    body = (
        _summary_table(groups) + '<img src="criteria.png" alt="mean score per criterion"><img src="distributions.png" '
        'alt="score distributions">'
        + f"<h2>Side by side ({len(rows)} shared questions)</h2><table><tr><th>id</th><th>question</th>"
        f"<th>{_e(names[0])}</th><th>scores</th><th>{_e(names[1])}</th><th>scores</th></tr>{''.join(rows)}</table>"
    )
    path = out_dir / "report.html"
    path.write_text(_page(f"Attune: {names[0]} vs {names[1]}", body), encoding="utf-8")
    return path
