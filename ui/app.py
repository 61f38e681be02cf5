"""The web UI: one Gradio Blocks page assembled from the tab modules, each built from the application core.

Each browser tab keeps its own conversation and practice session in Gradio state; every event that runs the
model shares one queue (concurrency group "model"), so one in-process model serves tabs in turn while the
progress views stay responsive.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: nothing phones home

import gradio as gr
from starlette.middleware import Middleware

from agent.app import Attune
from agent.commands import DISCLAIMER
from agent.models import ModelChoiceError
from ui import LOOPBACK_NAMES
from ui.guards import LoginThrottle, LoopbackGuard, OwnerCookie
from ui.tabs import MODEL_QUEUE, HelpPanel, ask, evaluate, library, practice, progress

# Leaves the page at once for a neutral one and drops this page from the tab's history.
QUICK_EXIT_JS = "() => { window.location.replace('about:blank'); }"
THEME = gr.themes.Default(
    font=["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "sans-serif"],  # no web fonts: works offline
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
)
CSS = """
#attune-help { border: 3px solid #c0392b; border-radius: 8px; padding: 12px; background: #fff5f4; }
#quick-exit { max-width: 12em; }
"""
QUEUE_MAX = 64  # waiting events beyond this are refused at once instead of piling up without bound


def build_app(app: Attune) -> gr.Blocks:
    with gr.Blocks(title="Attune", analytics_enabled=False) as page:
        with gr.Row():
            gr.Markdown("# Attune\nA relationship coach that runs on your own machine.")
            model_pick = gr.Dropdown(
                choices=app.model_choices(), value=app.current_model(), label="Model", scale=0, min_width=180,
                info="`attune models pull NAME` adds more", elem_id="model-pick",
            )
            exit_button = gr.Button("Quick exit", elem_id="quick-exit", variant="stop", size="sm")
        model_note = gr.Markdown(elem_id="model-note")
        gr.Markdown(f"*{DISCLAIMER}*", elem_id="disclaimer")
        with gr.Column(visible=False, elem_id="attune-help") as help_box:
            help_panel = HelpPanel(gr.Markdown(), help_box)
            help_close = gr.Button("Close", size="sm", elem_id="attune-help-close")
        help_close.click(lambda: gr.update(visible=False), None, help_box, api_visibility="private")
        exit_button.click(None, js=QUICK_EXIT_JS)

        def use_model(name: str) -> str:
            try:
                path = app.use_model(name)
            except ModelChoiceError as exc:
                return f"*{exc}*"
            return f"*Answers and practice now use {path.name if path else 'the bundled model'}.*"

        # In the model's queue: a switch waits for the answer in progress, and the next one runs on the new model.
        model_pick.input(use_model, [model_pick], [model_note], api_name="use_model", **MODEL_QUEUE)
        tabs = [
            ask.build(app, help_panel),
            practice.build(app, help_panel),
            progress.build(app, page),
            library.build(app, page),
            evaluate.build(app),
        ]
        for tab in tabs:
            # The panel answers one message; it does not follow the person to another tab.
            tab.select(lambda: gr.update(visible=False), None, help_box, api_visibility="private")
    return page


def launch(app: Attune, host: str, port: int, *, password: str | None = None, block: bool = True) -> gr.Blocks:
    """Serve the UI; with `block=False`, return at once with the server running (`.close()` stops it).

    Gradio's own start-up lines stay quiet: its "set share=True" hint contradicts Attune's sharing-off promise,
    and the caller says where the app runs once it does.
    """
    app.warm()  # the model and the coach are built once, before requests arrive from several threads
    page = build_app(app)
    page.queue(default_concurrency_limit=4, max_size=QUEUE_MAX)
    page.launch(
        server_name=host,
        server_port=port,
        share=False,
        auth=LoginThrottle(password) if password else None,
        max_file_size=int(app.settings.retrieval.max_file_mb * 1_000_000),
        prevent_thread_lock=True,
        quiet=True,
        theme=THEME,
        css=CSS,
        footer_links=[],
        show_error=True,
        app_kwargs={
            "middleware": [Middleware(OwnerCookie)]
            + ([Middleware(LoopbackGuard, port=port)] if host in LOOPBACK_NAMES else [])
        },
    )
    if block:
        print(f"Attune is running at http://{host}:{port} (Ctrl-C to stop).", file=sys.stderr, flush=True)
        page.block_thread()
    return page
