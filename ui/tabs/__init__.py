"""What the UI's tabs share: the help panel a disclosure opens, Markdown made safe to show, progress bars.

Each tab module builds its tab from the application core (`agent.app.Attune`) and nothing else of Attune's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import gradio as gr

TRACK_TQDM = gr.Progress(track_tqdm=True)  # Gradio shows the tqdm bars of ingestion and evaluation
# One in-process model serves the tabs in turn.
MODEL_QUEUE: dict[str, Any] = {"concurrency_id": "model", "concurrency_limit": 1}


@dataclass(frozen=True)
class HelpPanel:
    """The red panel above the tabs that shows help resources when a message discloses danger."""

    text: gr.Markdown
    box: gr.Column

    @property
    def outputs(self) -> list[Any]:
        return [self.text, self.box]

    @staticmethod
    def show(text: str) -> tuple[Any, Any]:
        return f"### You deserve support right now\n\n{text}", gr.update(visible=True)

    UNCHANGED = (gr.update(), gr.update())


# Documents and practice turns are shown as Markdown; an image in them would be fetched by the browser from
# wherever it points (a tracking pixel), so none is rendered: its alt text stays, marked as an image.
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)|!\[([^\]]*)\]\[[^\]]*\]")
_HTML_MEDIA = re.compile(
    r"<\s*/?\s*(?:img|image|iframe|video|audio|source|picture|object|embed|link|svg)\b[^>]*>", re.IGNORECASE
)


def no_remote_images(markdown: str) -> str:
    """The Markdown with every image and embedded medium removed (alt text kept as "[image: ...]")."""
    text = _MD_IMAGE.sub(lambda m: f"[image: {(m.group(1) or m.group(2) or '').strip()}]", markdown)
    return _HTML_MEDIA.sub("", text)
