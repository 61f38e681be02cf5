"""The Ask tab: a conversation with the coach, answers streamed with their sources, help when it is needed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from agent.app import Attune
from agent.coach import Answer, BadQuestion
from agent.followup import ConversationTurn
from agent.prompts import GENERAL_ADVICE_NOTE
from agent.text import printable
from ui.tabs import MODEL_QUEUE, HelpPanel, no_remote_images


def sources_markdown(answer: Answer) -> str:
    lines = []
    for n, p in enumerate(answer.sources, 1):
        mark = "" if n in answer.cited else " *(not cited)*"
        section = f" - {p.section}" if p.section else ""
        lines.append(f"**[{n}] {p.title}{section}**{mark}\n\n> {p.text[:400]}{'...' if len(p.text) > 400 else ''}")
    return "\n\n".join(lines)


def build(app: Attune, help_panel: HelpPanel) -> gr.Tab:
    with gr.Tab("Ask", id="ask") as tab:
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
                yield history, past, "", *HelpPanel.UNCHANGED
                return
            history = list(history or []) + [
                {"role": "user", "content": no_remote_images(message)},
                {"role": "assistant", "content": ""},
            ]
            try:
                stream = app.ask(message, [ConversationTurn(q, a) for q, a in past])
            except BadQuestion as exc:
                history[-1]["content"] = f"*{exc}*"
                yield history, past, message, *HelpPanel.UNCHANGED
                return
            if stream.safety.flagged:
                answer = stream.result()
                history[-1]["content"] = answer.text
                yield history, past, "", *HelpPanel.show(answer.text)
                return
            if not stream.passages:
                history[-1]["content"] = f"*{GENERAL_ADVICE_NOTE}*\n\n"
            prefix = history[-1]["content"]
            text = ""
            for piece in stream:
                text += piece
                history[-1]["content"] = no_remote_images(prefix + text)
                yield history, past, "", *HelpPanel.UNCHANGED
            answer = stream.result()
            if answer.safety.flagged:  # the answer itself turned harmful and was replaced with help
                history[-1]["content"] = answer.text
                yield history, past, "", *HelpPanel.show(answer.text)
                return
            history[-1]["content"] = no_remote_images(prefix + answer.text)
            if answer.sources:
                history.append(
                    {
                        "role": "assistant",
                        "content": no_remote_images(sources_markdown(answer)),
                        "metadata": {"title": f"Sources ({len(answer.cited)} cited)", "status": "done"},
                    }
                )
            yield history, [*past, (message, answer.text)], "", *HelpPanel.UNCHANGED

        for trigger, name in ((send.click, "ask"), (box.submit, "ask_enter")):
            trigger(
                ask,
                [box, chat, turns],
                [chat, turns, box, *help_panel.outputs],
                api_name=name,
                api_visibility="public" if name == "ask" else "undocumented",
                **MODEL_QUEUE,
            )
    return tab
