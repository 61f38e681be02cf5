"""The web UI as one Gradio Blocks app, built from the same runtime as the CLI.

Each browser tab keeps its own conversation and practice session in Gradio state; every event that runs the
model shares one queue (concurrency group "model"), so one in-process model serves tabs in turn while the
progress views stay responsive.
"""

from __future__ import annotations

import base64
import hmac
import io
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: nothing phones home

import gradio as gr
import numpy as np
from gradio.utils import get_upload_folder as gradio_upload_folder
from langchain_core.language_models.chat_models import BaseChatModel
from PIL import Image
from starlette.middleware import Middleware

from agent.backends import make_chat_model
from agent.cli import DISCLAIMER
from agent.coach import BadQuestion, Coach
from agent.followup import ConversationTurn
from agent.practice.scenarios import ScenarioRefused, load_scenarios, scenario_from_description
from agent.practice.session import BadTurn, BranchComparison, PracticeSession, SafetyStop
from agent.practice.store import SessionNotFound, SessionRecord, SessionStore, TurnRecord
from agent.practice.summary import plot_summary, summarize, to_markdown
from agent.prompts import GENERAL_ADVICE_NOTE
from agent.runtime import build_coach, ingest_into, open_library, open_sessions
from agent.safety import SafetyVerdict, safety_reply
from agent.settings import AttuneSettings
from agent.text import printable
from eval.report import write_report
from eval.rubric import Scorer
from eval.run import bundled_question_suites, read_suite, run_suite, summaries
from knowledge.ingest import BUNDLED_PREFIX
from knowledge.library import Library
from knowledge.loaders import UnreadableDocument
from knowledge.uploads import save_upload
from ui import LOOPBACK_NAMES

# Leaves the page at once for a neutral one and drops this page from the tab's history.
QUICK_EXIT_JS = "() => { window.location.replace('about:blank'); }"
THEME = gr.themes.Default(
    font=["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "sans-serif"],  # no web fonts: works offline
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
)
TRACK_TQDM = gr.Progress(track_tqdm=True)  # Gradio shows the tqdm bars of ingestion and evaluation
CSS = """
#attune-help { border: 3px solid #c0392b; border-radius: 8px; padding: 12px; background: #fff5f4; }
#quick-exit { max-width: 12em; }
"""


@dataclass
class UIRuntime:
    """What every browser tab shares: settings, the one model, the coach, the scorer, the saved sessions."""

    settings: AttuneSettings
    model: BaseChatModel
    coach: Coach
    scorer: Scorer
    sessions: SessionStore
    library: Library

    @classmethod
    def build(
        cls, settings: AttuneSettings, library: Library | None = None, model: BaseChatModel | None = None
    ) -> UIRuntime:
        library = library or open_library(settings)
        model = model or make_chat_model(settings)
        coach = build_coach(settings, library, model)
        assert coach.scorer is not None  # build_coach always gives the coach the fast scorer; practice shares it
        return cls(settings, model, coach, coach.scorer, open_sessions(settings), library)

    def help_text(self, verdict: SafetyVerdict) -> str:
        return safety_reply(verdict, self.coach.help_resources)


def _sources_markdown(answer: Any) -> str:
    lines = []
    for n, p in enumerate(answer.sources, 1):
        mark = "" if n in answer.cited else " *(not cited)*"
        section = f" - {p.section}" if p.section else ""
        lines.append(f"**[{n}] {p.title}{section}**{mark}\n\n> {p.text[:400]}{'...' if len(p.text) > 400 else ''}")
    return "\n\n".join(lines)


def _help_update(text: str) -> tuple[Any, Any]:
    """The help panel's text and its box, shown."""
    return f"### You deserve support right now\n\n{text}", gr.update(visible=True)


NO_HELP_CHANGE = (gr.update(), gr.update())


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


def _coach_markdown(turn: TurnRecord) -> str:
    flags = ", ".join(turn.horsemen)
    lines = [
        f"**Non-blame** {turn.non_blame:.2f} · **empathy** {turn.empathy_total}/6"
        + (f" · **blame:** {flags}" if flags else ""),
        "",
        turn.feedback or "",
    ]
    if turn.rewrite:
        lines += ["", f"**Try:** *{turn.rewrite}*"]
    state = turn.state_after or {}
    if state:
        lines += ["", f"*{state.get('label', '')}* (the other person's openness)"]
    return no_remote_images("\n".join(lines))


def _practice_chat(record: SessionRecord) -> list[dict[str, str]]:
    s = record.scenario
    chat = [{"role": "assistant", "content": no_remote_images(f"**{s.name}:** {s.opening_line}")}]
    for t in record.active_turns:
        chat.append({"role": "user", "content": no_remote_images(t.user)})
        if t.partner:
            chat.append({"role": "assistant", "content": no_remote_images(f"**{s.name}:** {t.partner}")})
    return chat


def _image(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.copy()


def _inline_plot(summary: Any, title: str) -> str:
    """The session's plot inside the page itself: an image component would write it to Gradio's temp folder,
    readable by other users of the machine, even for a session the person asked not to save."""
    buffer = io.BytesIO()
    plot_summary(summary, buffer, title)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="Your scores over the session" style="max-width:100%" src="data:image/png;base64,{encoded}">'


def build_app(rt: UIRuntime) -> gr.Blocks:
    scenarios = load_scenarios()
    with gr.Blocks(title="Attune", analytics_enabled=False) as app:
        with gr.Row():
            gr.Markdown("# Attune\nA relationship coach that runs on your own machine.")
            exit_button = gr.Button("Quick exit", elem_id="quick-exit", variant="stop", size="sm")
        gr.Markdown(f"*{DISCLAIMER}*", elem_id="disclaimer")
        with gr.Column(visible=False, elem_id="attune-help") as help_box:
            help_panel = gr.Markdown()
            help_close = gr.Button("Close", size="sm", elem_id="attune-help-close")
        help_close.click(lambda: gr.update(visible=False), None, help_box, api_visibility="private")
        exit_button.click(None, js=QUICK_EXIT_JS)

        with gr.Tab("Ask", id="ask") as ask_tab:
            chat = gr.Chatbot(label="Conversation", height=460, elem_id="ask-chat", buttons=["copy", "copy_all"])
            with gr.Row():
                box = gr.Textbox(
                    placeholder="Ask about a relationship situation ...", show_label=False, scale=5, elem_id="ask-box"
                )
                send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask-send")
            turns = gr.State([])

            def ask(message: str, history: list[dict[str, Any]], past: list[tuple[str, str]]) -> Iterator[Any]:
                message = printable(message or "")  # a lone surrogate would kill the stream
                if not message.strip():  # nothing asked: no empty bubbles
                    yield history, past, "", *NO_HELP_CHANGE
                    return
                history = list(history or []) + [
                    {"role": "user", "content": no_remote_images(message)},
                    {"role": "assistant", "content": ""},
                ]
                try:
                    stream = rt.coach.ask(message, [ConversationTurn(q, a) for q, a in past])
                except BadQuestion as exc:
                    history[-1]["content"] = f"*{exc}*"
                    yield history, past, message, *NO_HELP_CHANGE
                    return
                if stream.safety.flagged:
                    answer = stream.result()
                    history[-1]["content"] = answer.text
                    yield history, past, "", *_help_update(answer.text)
                    return
                if not stream.passages:
                    history[-1]["content"] = f"*{GENERAL_ADVICE_NOTE}*\n\n"
                prefix = history[-1]["content"]
                text = ""
                for piece in stream:
                    text += piece
                    history[-1]["content"] = no_remote_images(prefix + text)
                    yield history, past, "", *NO_HELP_CHANGE
                answer = stream.result()
                if answer.safety.flagged:  # the answer itself turned harmful and was replaced with help
                    history[-1]["content"] = answer.text
                    yield history, past, "", *_help_update(answer.text)
                    return
                history[-1]["content"] = no_remote_images(prefix + answer.text)
                if answer.sources:
                    history.append(
                        {
                            "role": "assistant",
                            "content": no_remote_images(_sources_markdown(answer)),
                            "metadata": {"title": f"Sources ({len(answer.cited)} cited)", "status": "done"},
                        }
                    )
                yield history, [*past, (message, answer.text)], "", *NO_HELP_CHANGE

            for trigger, name in ((send.click, "ask"), (box.submit, "ask_enter")):
                trigger(
                    ask,
                    [box, chat, turns],
                    [chat, turns, box, help_panel, help_box],
                    api_name=name,
                    api_visibility="public" if name == "ask" else "undocumented",
                    concurrency_id="model",
                    concurrency_limit=1,
                )

        with gr.Tab("Practice", id="practice") as practice_tab:
            with gr.Row():
                scenario = gr.Dropdown(
                    choices=[(f"{s.title} (with {s.name}, {s.role}; {s.difficulty})", s.id) for s in scenarios.values()
                    ],
                    value=next(iter(scenarios)),
                    label="Scenario",
                    scale=3,
                    elem_id="scenario",
                )
                dont_save = gr.Checkbox(label="Don't save this session", value=False, scale=1, elem_id="dont-save")
            describe = gr.Textbox(label="... or describe your own conflict (optional)", lines=2, elem_id="describe")
            start = gr.Button("Start practising", variant="primary", elem_id="practice-start")
            with gr.Row():
                practice_chat = gr.Chatbot(
                    label="Conversation", height=420, scale=3, elem_id="practice-chat", buttons=["copy", "copy_all"]
                )
                with gr.Column(scale=2):
                    gr.Markdown("### Coach")
                    coach_panel = gr.Markdown("Start a session, then say your first line.", elem_id="coach-panel")
            turn_box = gr.Textbox(placeholder="What would you say?", show_label=False, elem_id="practice-box")
            with gr.Row():
                say = gr.Button("Say it", variant="primary", elem_id="practice-say")
                retry = gr.Button("Try that again", elem_id="practice-retry")
                end = gr.Button("End and summarise", elem_id="practice-end")
            summary_md = gr.Markdown(elem_id="practice-summary")
            summary_plot = gr.HTML(visible=False, elem_id="practice-plot")
            session = gr.State(None)  # {"id": ..., "store": SessionStore}: the tab's own session

            def open_session(state: dict[str, Any] | None) -> PracticeSession:
                if not state:
                    raise gr.Error("Start a session first.")
                practice = PracticeSession.resume(
                    state["store"], state["id"], rt.model, rt.scorer, max_turn_chars=rt.settings.max_turn_chars
                )
                practice.safety_check = rt.coach.safety_check
                return practice

            def begin(scenario_id: str, description: str, private: bool, request: gr.Request) -> Any:
                store = SessionStore(None) if private else rt.sessions
                try:
                    chosen = (
                        scenario_from_description(description, model=rt.model)
                        if description.strip()
                        else scenarios[scenario_id]
                    )
                except ScenarioRefused as exc:
                    raise gr.Error(str(exc)) from None
                practice = PracticeSession.start(
                    store, chosen, rt.model, rt.scorer, owner=owner_of(request),
                    max_turn_chars=rt.settings.max_turn_chars,
                )
                intro = f"**{chosen.title}**: {chosen.situation}" + (" *(not saved)*" if private else "")
                intro = no_remote_images(intro)
                return (
                    {"id": practice.id, "store": store},
                    _practice_chat(practice.record()),
                    intro,
                    "",
                    gr.update(value="", visible=False),
                )

            def step(text: str, state: dict[str, Any] | None, act: Callable[[PracticeSession], str]) -> Any:
                """Run one practice action; a disclosure ends the session and shows the help panel instead."""
                practice = open_session(state)
                try:
                    panel = act(practice)
                except BadTurn as exc:
                    raise gr.Error(str(exc)) from None
                except SafetyStop as stop:
                    reply = rt.help_text(stop.verdict)
                    return _practice_chat(practice.record()), reply, "", *_help_update(reply)
                return _practice_chat(practice.record()), panel, "", *NO_HELP_CHANGE

            def take_turn(text: str, state: dict[str, Any] | None) -> Any:
                return step(text, state, lambda practice: _coach_markdown(practice.say(text)))

            def compare(comparison: BranchComparison) -> str:
                first, again = comparison.first, comparison.retry
                verdict = (
                    "The retry scores better, so it replaces your first try."
                    if comparison.retry_better
                    else "No better on the rubric: your first try stays in the conversation."
                )
                return (
                    f"**First try:** non-blame {first.non_blame:.2f}, empathy {first.empathy_total}/6  \n"
                    f"**Retry:** non-blame {again.non_blame:.2f}, empathy {again.empathy_total}/6  \n"
                    f"{verdict}\n\n---\n\n{_coach_markdown(again)}"
                )

            def try_again(text: str, state: dict[str, Any] | None) -> Any:
                return step(text, state, lambda practice: compare(practice.retry(text)))

            def finish(state: dict[str, Any] | None) -> Any:
                practice = open_session(state)
                practice.end()
                summary = summarize(practice.record())
                text = no_remote_images(summary.text().replace("\n", "  \n"))
                if not summary.points:
                    return text, gr.update(visible=False)
                return text, gr.update(value=_inline_plot(summary, practice.scenario.title), visible=True)

            start.click(
                begin,
                [scenario, describe, dont_save],
                [session, practice_chat, coach_panel, summary_md, summary_plot],
                api_name="practice_start",
                concurrency_id="model",
                concurrency_limit=1,
            )
            for trigger, fn, name in (
                (say.click, take_turn, "practice_say"),
                (turn_box.submit, take_turn, "practice_say_enter"),
                (retry.click, try_again, "practice_retry"),
            ):
                trigger(
                    fn,
                    [turn_box, session],
                    [practice_chat, coach_panel, turn_box, help_panel, help_box],
                    api_name=name,
                    api_visibility="undocumented" if name.endswith("_enter") else "public",
                    concurrency_id="model",
                    concurrency_limit=1,
                )
            end.click(finish, [session], [summary_md, summary_plot], api_name="practice_end")

        with gr.Tab("Progress", id="progress") as progress_tab:
            refresh = gr.Button("Refresh", elem_id="progress-refresh")
            table = gr.Dataframe(
                headers=["session", "started", "scenario", "turns", "non-blame", "empathy", "status"],
                interactive=False,
                elem_id="progress-table",
            )
            over_time = gr.Image(label="Scores over time", type="pil", visible=False, elem_id="progress-plot")
            pick = gr.Dropdown(label="Open a transcript", choices=[], elem_id="progress-pick")
            transcript = gr.Markdown(elem_id="progress-transcript")

            def progress(request: gr.Request) -> Any:
                records = rt.sessions.list(owner=owner_of(request))  # this browser's own sessions only
                rows, means = [], []
                for r in records:
                    scored = [t for t in r.active_turns if t.scores]
                    nb = float(np.mean([t.non_blame or 0 for t in scored])) if scored else float("nan")
                    em = float(np.mean([t.empathy_total or 0 for t in scored])) if scored else float("nan")
                    status = r.ended_reason or ("ended" if r.ended_at else "open")
                    rows.append([r.id, r.created_at, r.scenario.title, len(r.active_turns), round(nb, 2),
                                 round(em, 2), status])
                    if scored:
                        means.append((r.created_at, nb, em / 6))
                choices = [(f"{r.created_at[:16]} {r.scenario.title}", r.id) for r in records]
                plot = _progress_png(list(reversed(means))) if means else None
                return rows, gr.update(value=plot, visible=plot is not None), gr.update(choices=choices, value=None)

            def show(session_id: str | None, request: gr.Request) -> str:
                if not session_id:
                    return ""
                try:
                    record = rt.sessions.load(session_id, owner=owner_of(request))
                except SessionNotFound:  # another browser's session: as if it did not exist
                    return "*No such session.*"
                return no_remote_images(to_markdown(record))

            refresh.click(progress, [], [table, over_time, pick], api_name="progress")
            pick.change(show, [pick], [transcript], api_name="transcript")
            app.load(progress, [], [table, over_time, pick], api_name="progress_on_load", api_visibility="undocumented")
        with gr.Tab("Library", id="library") as library_tab:
            gr.Markdown(
                f"Add your own articles (.md, .txt, .html, .pdf; up to {rt.settings.max_file_mb:g} MB each). "
                "They are stored and indexed on this machine only."
            )
            uploads = gr.File(
                label="Documents", file_count="multiple", file_types=[".md", ".txt", ".html", ".htm", ".pdf"],
                elem_id="library-files",
            )
            add = gr.Button("Add to the library", variant="primary", elem_id="library-add")
            report_md = gr.Markdown(elem_id="library-report")
            sources_table = gr.Dataframe(headers=["source", "title", "yours"], interactive=False,
                                         elem_id="library-sources")
            with gr.Row():
                to_remove = gr.Dropdown(label="Remove one of your documents", choices=[], scale=3,
                                        elem_id="library-pick")
                remove = gr.Button("Remove", variant="stop", scale=1, elem_id="library-remove")

            def listing() -> Any:
                # Your documents by their full path: two files of one name, in two folders, are told apart.
                found = sorted(rt.library.sources().items())
                mine = [src for src, _ in found if not src.startswith(BUNDLED_PREFIX)]
                rows = [[src if src in mine else src.removeprefix(BUNDLED_PREFIX), title, "yes" if src in mine else ""]
                        for src, title in found]
                return rows, gr.update(choices=[(src, src) for src in mine], value=None)

            def add_documents(files: list[str] | None, progress: gr.Progress = TRACK_TQDM) -> Any:
                if not files:  # said in the report; the listing stays as it is
                    return "*Choose one or more documents first.*", gr.update(), gr.update()
                saved, problems = [], []
                uploads_root = Path(gradio_upload_folder()).resolve()
                for temp in files:
                    name = Path(temp).name
                    if not Path(temp).resolve().is_relative_to(uploads_root):
                        # A forged API call can name any path on the server: only Gradio's own uploads are read,
                        # and the answer is the same whether the named file exists or not.
                        problems.append(f"- **{name}**: not uploaded here; choose the file in the page")
                        continue
                    try:
                        saved.append(save_upload(rt.settings.uploads_dir, name, Path(temp).read_bytes(),
                                                 int(rt.settings.max_file_mb * 1_000_000)))
                    except UnreadableDocument as exc:
                        problems.append(f"- **{name}**: {exc}")
                    finally:
                        Path(temp).unlink(missing_ok=True)  # Gradio's copy in the temp folder is not kept
                if saved:
                    report = ingest_into(rt.library, rt.settings, saved, progress=True)
                    problems += [f"- **{Path(f.path).name}**: {f.reason}" for f in report.failures]
                    problems += [f"- **{Path(path).name}**: already in the library as `{twin}`"
                                 for path, twin in report.files_duplicate]
                    for failed in [f.path for f in report.failures] + [path for path, _ in report.files_duplicate]:
                        Path(failed).unlink(missing_ok=True)  # an unreadable or duplicate upload is not kept
                    done = len(report.files_added) + len(report.files_updated) + len(report.files_unchanged)
                    text = f"Added {done} document(s): +{report.chunks_added} passages ({report.chunks_total} in all)."
                else:
                    text = "Nothing added."
                if problems:
                    text += "\n\nSkipped:\n" + "\n".join(problems)
                return (text, *listing())

            def remove_document(source: str | None) -> Any:
                if not source or source.startswith(BUNDLED_PREFIX):
                    return "*Pick one of your documents to remove.*", gr.update(), gr.update()
                removed = rt.library.delete_source(source)
                path = Path(source)
                if path.resolve().parent == rt.settings.uploads_dir.resolve():
                    path.unlink(missing_ok=True)
                return (f"Removed {path.name} ({removed} passages).", *listing())

            # Its own queue: ingesting a large upload must not hold up other people's questions.
            add.click(add_documents, [uploads], [report_md, sources_table, to_remove], api_name="library_add",
                      concurrency_id="library", concurrency_limit=1)
            remove.click(remove_document, [to_remove], [report_md, sources_table, to_remove],
                         api_name="library_remove")
            app.load(listing, [], [sources_table, to_remove], api_name="library_list")

        with gr.Tab("Evaluate", id="evaluate") as evaluate_tab:
            gr.Markdown("Run an evaluation suite on the current model and see how its answers score on the rubric.")
            suites = {p.name: p for p in bundled_question_suites()}
            with gr.Row():
                suite = gr.Dropdown(choices=list(suites), value=next(iter(suites), None), label="Suite", scale=3,
                                    elem_id="eval-suite")
                limit = gr.Number(value=3, minimum=1, maximum=100, precision=0, label="Questions", scale=1,
                                  elem_id="eval-limit")
            run = gr.Button("Run", variant="primary", elem_id="eval-run")
            eval_summary = gr.Markdown(elem_id="eval-summary")
            with gr.Row():
                criteria_plot = gr.Image(label="Mean score per criterion", type="pil", visible=False,
                                         elem_id="eval-criteria-plot")
                distribution_plot = gr.Image(label="Score distributions", type="pil", visible=False,
                                             elem_id="eval-distribution-plot")
            eval_table = gr.Dataframe(headers=["id", "question", "empathy", "non-blame", "flags"], interactive=False,
                                      elem_id="eval-table")

            def evaluate(name: str, n: float, progress: gr.Progress = TRACK_TQDM) -> Any:
                if name not in suites:
                    raise gr.Error("Pick a suite.")
                cases = read_suite(suites[name])[: max(1, int(n or 1))]
                out = rt.settings.home / "eval-runs" / f"{Path(name).stem}-{time.strftime('%Y%m%d-%H%M%S')}"
                results = run_suite(cases, lambda q: rt.coach.ask(q).result(), rt.scorer, out, progress=True)
                rows: list[dict[str, Any]] = [r.to_json() for r in results]
                write_report(rows, out, title=f"Attune evaluation: {name}")
                coach = summaries(rows)["coach"]
                text = (
                    f"{len(rows)} answers: empathy {coach.empathy_total:.2f}/6, non-blame {coach.non_blame:.3f}, "
                    f"flagged {coach.flagged_share:.0%}. Report: `{out / 'report.html'}`"
                )
                table = [
                    [r["id"], r["question"], sum(r["scores"]["empathy"].values()), r["scores"]["non_blame"]["score"],
                     ", ".join(f["kind"] for f in r["scores"]["non_blame"]["flags"])]
                    for r in rows
                ]
                # Sent as images, not paths: Gradio serves files only from its temp and upload folders, and the
                # run folder lives in the data folder (~/.local/share/attune by default).
                return (text, gr.update(value=_image(out / "criteria.png"), visible=True),
                        gr.update(value=_image(out / "distributions.png"), visible=True), table)

            run.click(evaluate, [suite, limit], [eval_summary, criteria_plot, distribution_plot, eval_table],
                      api_name="evaluate", concurrency_id="model", concurrency_limit=1)
        for tab in (ask_tab, practice_tab, progress_tab, library_tab, evaluate_tab):
            # The panel answers one message; it does not follow the person to another tab.
            tab.select(lambda: gr.update(visible=False), None, help_box, api_visibility="private")
    return app


def _progress_png(points: list[tuple[str, float, float]]) -> Image.Image:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.2), dpi=110)
    xs = list(range(1, len(points) + 1))
    ax.plot(xs, [p[1] for p in points], "o-", color="#2a7ab0", label="non-blame (mean)")
    ax.plot(xs, [p[2] for p in points], "s--", color="#3a9a5b", label="empathy (mean, scaled)")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xticks(xs)
    ax.set_xlabel("session, oldest first")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    buffer.seek(0)
    return Image.open(buffer)


OWNER_COOKIE = "attune_owner"
_OWNER_TOKEN = re.compile(r"[0-9a-f]{32}")
_OWNER_IN_COOKIES = re.compile(rf"(?:^|;\s*){OWNER_COOKIE}=[0-9a-f]{{32}}(?:;|$)")


def owner_of(request: gr.Request) -> str:
    """Who made a practice session: this browser's owner cookie (set by `OwnerCookie`), else the Gradio session
    of a client that keeps no cookies. Sessions belong to their owner; nobody else can list or read them."""
    cookies = getattr(request, "cookies", None) or {}
    token = cookies.get(OWNER_COOKIE, "")
    if _OWNER_TOKEN.fullmatch(token):
        return f"browser:{token}"
    return f"gradio-session:{request.session_hash}"


class OwnerCookie:
    """Give every browser a random, HttpOnly owner cookie on its first request, kept for a year."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = dict(scope.get("headers") or []).get(b"cookie", b"").decode("latin-1")
        if _OWNER_IN_COOKIES.search(cookie):
            await self.app(scope, receive, send)
            return
        token = uuid.uuid4().hex
        header = f"{OWNER_COOKIE}={token}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict".encode()

        async def send_with_cookie(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", header)]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _hostname(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:7860
        return value[1 : value.find("]")]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class LoopbackGuard:
    """On a loopback UI, answer only requests addressed to loopback from a page of this very server.

    Without it any `Host` was served, so a web page whose name resolves to 127.0.0.1 (DNS rebinding) could drive the
    UI from the user's browser, and any localhost origin was allowed to call it with credentials.
    """

    def __init__(self, app: Any, port: int) -> None:
        self.app = app
        self.origins = {f"http://{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]")}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = dict(scope.get("headers") or [])
            host = headers.get(b"host", b"").decode("latin-1")
            origin = headers.get(b"origin", b"").decode("latin-1").rstrip("/").lower()
            if _hostname(host) not in LOOPBACK_NAMES or (origin and origin not in self.origins):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                body = b"Attune answers only this machine (loopback) and its own pages."
                headers_out = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
                await send({"type": "http.response.start", "status": 403, "headers": headers_out})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


class LoginThrottle:
    """Gradio's password check, with at most `limit` wrong tries per `window_s` seconds for everyone together:
    without it 200 guesses took one second. Past the limit every login waits for the window to pass."""

    def __init__(self, password: str, limit: int = 5, window_s: float = 60.0) -> None:
        self.password = password
        self.limit = limit
        self.window_s = window_s
        self.failures: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, username: str, password: str) -> bool:
        now = time.monotonic()
        with self._lock:
            self.failures = [t for t in self.failures if now - t < self.window_s]
            if len(self.failures) >= self.limit:
                return False
            ok = hmac.compare_digest(username.encode(), b"attune") & hmac.compare_digest(
                password.encode(), self.password.encode()
            )
            if not ok:
                self.failures.append(now)
            return ok


QUEUE_MAX = 64  # waiting events beyond this are refused at once instead of piling up without bound


def launch(rt: UIRuntime, host: str, port: int, *, password: str | None = None, block: bool = True) -> gr.Blocks:
    """Serve the app; with `block=False`, return at once with the server running (`.close()` stops it).

    Gradio's own start-up lines stay quiet: its "set share=True" hint contradicts Attune's sharing-off promise,
    and the caller says where the app runs once it does.
    """
    app = build_app(rt)
    app.queue(default_concurrency_limit=4, max_size=QUEUE_MAX)
    app.launch(
        server_name=host,
        server_port=port,
        share=False,
        auth=LoginThrottle(password) if password else None,
        max_file_size=int(rt.settings.max_file_mb * 1_000_000),
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
        app.block_thread()
    return app
