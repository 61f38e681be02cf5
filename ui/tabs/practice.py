"""The Practice tab: pick or describe a conflict, talk to the other person, read the coach's notes per turn,
retry a turn, and end with a summary and a plot."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

import gradio as gr

from agent.app import Attune
from agent.practice.scenarios import ScenarioRefused
from agent.practice.session import BadTurn, BranchComparison, PracticeSession, SafetyStop
from agent.practice.store import SessionRecord, TurnRecord
from agent.practice.summary import SessionSummary, plot_summary, summarize
from agent.safety import safety_reply
from eval.rubric import EMPATHY_MAX
from ui.guards import owner_of
from ui.tabs import MODEL_QUEUE, HelpPanel, no_remote_images


def coach_markdown(turn: TurnRecord) -> str:
    flags = ", ".join(turn.horsemen)
    lines = [
        f"**Non-blame** {turn.non_blame:.2f} · **empathy** {turn.empathy_total}/{EMPATHY_MAX}"
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


def comparison_markdown(comparison: BranchComparison) -> str:
    first, again = comparison.first, comparison.retry
    verdict = (
        "The retry scores better, so it replaces your first try."
        if comparison.retry_better
        else "No better on the rubric: your first try stays in the conversation."
    )
    return (
        f"**First try:** non-blame {first.non_blame:.2f}, empathy {first.empathy_total}/{EMPATHY_MAX}  \n"
        f"**Retry:** non-blame {again.non_blame:.2f}, empathy {again.empathy_total}/{EMPATHY_MAX}  \n"
        f"{verdict}\n\n---\n\n{coach_markdown(again)}"
    )


def practice_chat(record: SessionRecord) -> list[dict[str, str]]:
    s = record.scenario
    chat = [{"role": "assistant", "content": no_remote_images(f"**{s.name}:** {s.opening_line}")}]
    for t in record.active_turns:
        chat.append({"role": "user", "content": no_remote_images(t.user)})
        if t.partner:
            chat.append({"role": "assistant", "content": no_remote_images(f"**{s.name}:** {t.partner}")})
    return chat


def inline_plot(summary: SessionSummary, title: str) -> str:
    """The session's plot inside the page itself: an image component would write it to Gradio's temp folder,
    readable by other users of the machine, even for a session the person asked not to save."""
    buffer = io.BytesIO()
    plot_summary(summary, buffer, title)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="Your scores over the session" style="max-width:100%" src="data:image/png;base64,{encoded}">'


def build(app: Attune, help_panel: HelpPanel) -> gr.Tab:
    scenarios = app.scenarios()
    with gr.Tab("Practice", id="practice") as tab:
        with gr.Row():
            scenario = gr.Dropdown(
                choices=[(f"{s.title} (with {s.name}, {s.role}; {s.difficulty})", s.id) for s in scenarios.values()],
                value=next(iter(scenarios)),
                label="Scenario",
                scale=3,
                elem_id="scenario",
            )
            dont_save = gr.Checkbox(label="Don't save this session", value=False, scale=1, elem_id="dont-save")
        describe = gr.Textbox(label="... or describe your own conflict (optional)", lines=2, elem_id="describe")
        start = gr.Button("Start practising", variant="primary", elem_id="practice-start")
        with gr.Row():
            chat = gr.Chatbot(
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
            return app.resume_practice(state["id"], store=state["store"])

        def begin(scenario_id: str, description: str, private: bool, request: gr.Request) -> Any:
            try:
                chosen = app.scenario_from_description(description) if description.strip() else scenarios[scenario_id]
            except ScenarioRefused as exc:
                raise gr.Error(str(exc)) from None
            practice = app.start_practice(chosen, owner=owner_of(request), save=not private)
            intro = no_remote_images(f"**{chosen.title}**: {chosen.situation}" + (" *(not saved)*" if private else ""))
            state = {"id": practice.id, "store": practice.store}
            return state, practice_chat(practice.record()), intro, "", gr.update(value="", visible=False)

        def step(state: dict[str, Any] | None, act: Callable[[PracticeSession], str]) -> Any:
            """Run one practice action; a disclosure ends the session and shows the help panel instead."""
            practice = open_session(state)
            try:
                panel = act(practice)
            except BadTurn as exc:
                raise gr.Error(str(exc)) from None
            except SafetyStop as stop:
                reply = safety_reply(stop.verdict, app.help_resources)
                return practice_chat(practice.record()), reply, "", *HelpPanel.show(reply)
            return practice_chat(practice.record()), panel, "", *HelpPanel.UNCHANGED

        def take_turn(text: str, state: dict[str, Any] | None) -> Any:
            return step(state, lambda practice: coach_markdown(practice.say(text)))

        def try_again(text: str, state: dict[str, Any] | None) -> Any:
            return step(state, lambda practice: comparison_markdown(practice.retry(text)))

        def finish(state: dict[str, Any] | None) -> Any:
            practice = open_session(state)
            practice.end()
            summary = summarize(practice.record())
            text = no_remote_images(summary.text().replace("\n", "  \n"))
            if not summary.points:
                return text, gr.update(visible=False)
            return text, gr.update(value=inline_plot(summary, practice.scenario.title), visible=True)

        start.click(
            begin,
            [scenario, describe, dont_save],
            [session, chat, coach_panel, summary_md, summary_plot],
            api_name="practice_start",
            **MODEL_QUEUE,
        )
        for trigger, fn, name in (
            (say.click, take_turn, "practice_say"),
            (turn_box.submit, take_turn, "practice_say_enter"),
            (retry.click, try_again, "practice_retry"),
        ):
            trigger(
                fn,
                [turn_box, session],
                [chat, coach_panel, turn_box, *help_panel.outputs],
                api_name=name,
                api_visibility="undocumented" if name.endswith("_enter") else "public",
                **MODEL_QUEUE,
            )
        end.click(finish, [session], [summary_md, summary_plot], api_name="practice_end")
    return tab
