"""The Evaluate tab: run a bundled question suite on the current model and see its rubric scores and plots."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import gradio as gr
from PIL import Image

from agent.app import Attune
from eval.rubric import EMPATHY_MAX
from eval.run import bundled_question_suites
from eval.suite import evaluate_suite
from ui.tabs import MODEL_QUEUE, TRACK_TQDM


def _image(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.copy()


def build(app: Attune) -> gr.Tab:
    with gr.Tab("Evaluate", id="evaluate") as tab:
        gr.Markdown("Run an evaluation suite on the current model and see how its answers score on the rubric.")
        suites = {p.name: p for p in bundled_question_suites()}
        with gr.Row():
            suite = gr.Dropdown(choices=list(suites), value=next(iter(suites), None), label="Suite", scale=3,
                                elem_id="eval-suite")
            limit = gr.Number(value=3, minimum=1, maximum=100, precision=0, label="Questions", scale=1,
                              elem_id="eval-limit")
        run = gr.Button("Run", variant="primary", elem_id="eval-run")
        summary = gr.Markdown(elem_id="eval-summary")
        with gr.Row():
            criteria_plot = gr.Image(label="Mean score per criterion", type="pil", visible=False,
                                     elem_id="eval-criteria-plot")
            distribution_plot = gr.Image(label="Score distributions", type="pil", visible=False,
                                         elem_id="eval-distribution-plot")
        table = gr.Dataframe(headers=["id", "question", "empathy", "non-blame", "flags"], interactive=False,
                             elem_id="eval-table")

        def evaluate(name: str, n: float, progress: gr.Progress = TRACK_TQDM) -> Any:
            if name not in suites:
                raise gr.Error("Pick a suite.")
            out = app.settings.home / "eval-runs" / f"{Path(name).stem}-{time.strftime('%Y%m%d-%H%M%S')}"
            done = evaluate_suite(app, suites[name], out, limit=max(1, int(n or 1)))
            coach = done.groups["coach"]
            text = (
                f"{len(done.results)} answers: empathy {coach.empathy_total:.2f}/{EMPATHY_MAX}, "
                f"non-blame {coach.non_blame:.3f}, flagged {coach.flagged_share:.0%}. Report: `{done.report}`"
            )
            rows = []
            for r in done.results:
                score = r.score
                rows.append([r.id, r.question, score.empathy.total, score.non_blame.score,
                             ", ".join(f.kind for f in score.non_blame.flags)])
            # Sent as images, not paths: Gradio serves files only from its temp and upload folders, and the
            # run folder lives in the data folder (~/.local/share/attune by default).
            return (text, gr.update(value=_image(out / "criteria.png"), visible=True),
                    gr.update(value=_image(out / "distributions.png"), visible=True), rows)

        run.click(evaluate, [suite, limit], [summary, criteria_plot, distribution_plot, table], api_name="evaluate",
                  **MODEL_QUEUE)
    return tab
