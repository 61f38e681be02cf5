"""The Library tab: add your own articles from the browser, see what the library holds, remove yours."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder as gradio_upload_folder

from agent.app import Attune
from ui.tabs import TRACK_TQDM


def build(app: Attune, page: gr.Blocks) -> gr.Tab:
    with gr.Tab("Library", id="library") as tab:
        gr.Markdown(
            f"Add your own articles (.md, .txt, .html, .pdf; up to {app.settings.retrieval.max_file_mb:g} MB each). "
            "They are stored and indexed on this machine only."
        )
        uploads = gr.File(
            label="Documents", file_count="multiple", file_types=[".md", ".txt", ".html", ".htm", ".pdf"],
            elem_id="library-files",
        )
        add = gr.Button("Add to the library", variant="primary", elem_id="library-add")
        report_md = gr.Markdown(elem_id="library-report")
        sources_table = gr.Dataframe(headers=["source", "title", "yours"], interactive=False, elem_id="library-sources")
        with gr.Row():
            to_remove = gr.Dropdown(label="Remove one of your documents", choices=[], scale=3, elem_id="library-pick")
            remove = gr.Button("Remove", variant="stop", scale=1, elem_id="library-remove")

        def listing() -> Any:
            # Your documents by their full path: two files of one name, in two folders, are told apart.
            docs = app.documents()
            rows = [[d.shown_name, d.title, "yes" if d.yours else ""] for d in docs]
            return rows, gr.update(choices=[(d.source, d.source) for d in docs if d.yours], value=None)

        def add_documents(files: list[str] | None, progress: gr.Progress = TRACK_TQDM) -> Any:
            if not files:  # said in the report; the listing stays as it is
                return "*Choose one or more documents first.*", gr.update(), gr.update()
            uploads_root = Path(gradio_upload_folder()).resolve()
            received, refused = [], []
            for temp in map(Path, files):
                if not temp.resolve().is_relative_to(uploads_root):
                    # A forged API call can name any path on the server: only Gradio's own uploads are read,
                    # and the answer is the same whether the named file exists or not.
                    refused.append(f"- **{temp.name}**: not uploaded here; choose the file in the page")
                    continue
                try:
                    received.append((temp.name, temp.read_bytes()))
                finally:
                    temp.unlink(missing_ok=True)  # Gradio's copy in the temp folder is not kept
            added = app.add_uploads(received)
            problems = refused + [f"- **{name}**: {why}" for name, why in added.skipped]
            if added.ingest is not None:
                r = added.ingest
                done = len(r.files_added) + len(r.files_updated) + len(r.files_unchanged)
                text = f"Added {done} document(s): +{r.chunks_added} passages ({r.chunks_total} in all)."
            else:
                text = "Nothing added."
            if problems:
                text += "\n\nSkipped:\n" + "\n".join(problems)
            return (text, *listing())

        def remove_document(source: str | None) -> Any:
            mine = {d.source for d in app.documents() if d.yours}
            if not source or source not in mine:
                return "*Pick one of your documents to remove.*", gr.update(), gr.update()
            removed = app.remove_document(source)
            return (f"Removed {Path(source).name} ({removed} passages).", *listing())

        # Its own queue: ingesting a large upload must not hold up other people's questions.
        add.click(add_documents, [uploads], [report_md, sources_table, to_remove], api_name="library_add",
                  concurrency_id="library", concurrency_limit=1)
        remove.click(remove_document, [to_remove], [report_md, sources_table, to_remove], api_name="library_remove")
        page.load(listing, [], [sources_table, to_remove], api_name="library_list")
    return tab
