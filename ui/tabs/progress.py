"""The Progress tab: this browser's own practice sessions, their mean scores over time, and each transcript."""

from __future__ import annotations

import io
import math
from typing import Any

import gradio as gr
from PIL import Image

from agent.app import Attune
from agent.practice.store import SessionNotFound
from agent.practice.summary import SessionMeans, plot_progress, to_markdown
from ui.guards import owner_of
from ui.tabs import no_remote_images

HEADERS = ["session", "started", "scenario", "turns", "non-blame", "empathy", "status"]


def _row(m: SessionMeans) -> list[Any]:
    r = m.record
    status = r.ended_reason or ("ended" if r.ended_at else "open")
    nb, em = (math.nan if v is None else round(v, 2) for v in (m.non_blame, m.empathy))
    return [r.id, r.created_at, r.scenario.title, len(r.active_turns), nb, em, status]


def build(app: Attune, page: gr.Blocks) -> gr.Tab:
    with gr.Tab("Progress", id="progress") as tab:
        refresh = gr.Button("Refresh", elem_id="progress-refresh")
        table = gr.Dataframe(headers=HEADERS, interactive=False, elem_id="progress-table")
        over_time = gr.Image(label="Scores over time", type="pil", visible=False, elem_id="progress-plot")
        pick = gr.Dropdown(label="Open a transcript", choices=[], elem_id="progress-pick")
        transcript = gr.Markdown(elem_id="progress-transcript")

        def progress(request: gr.Request) -> Any:
            records = app.sessions.list(owner=owner_of(request))  # this browser's own sessions only
            means = [SessionMeans.of(r) for r in records]
            scored = [m for m in reversed(means) if m.non_blame is not None]
            plot = None
            if scored:
                buffer = io.BytesIO()
                plot_progress(scored, buffer)
                buffer.seek(0)
                plot = Image.open(buffer)
            choices = [(f"{r.created_at[:16]} {r.scenario.title}", r.id) for r in records]
            return ([_row(m) for m in means], gr.update(value=plot, visible=plot is not None),
                    gr.update(choices=choices, value=None))

        def show(session_id: str | None, request: gr.Request) -> str:
            if not session_id:
                return ""
            try:
                record = app.sessions.load(session_id, owner=owner_of(request))
            except SessionNotFound:  # another browser's session: as if it did not exist
                return "*No such session.*"
            return no_remote_images(to_markdown(record))

        refresh.click(progress, [], [table, over_time, pick], api_name="progress")
        pick.change(show, [pick], [transcript], api_name="transcript")
        page.load(progress, [], [table, over_time, pick], api_name="progress_on_load", api_visibility="undocumented")
    return tab
