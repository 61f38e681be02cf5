"""The one chat-model factory: settings in, a langchain `BaseChatModel` out.

Each backend's heavy import happens only when that backend is chosen; nothing else knows which runs.
"""

from __future__ import annotations

from langchain_core.language_models.chat_models import BaseChatModel

from agent.settings import AttuneSettings


class BackendUnavailable(RuntimeError):
    """The configured model cannot be used; the message says what to fix, in one line."""


def make_chat_model(settings: AttuneSettings) -> BaseChatModel:
    match settings.backend:
        case "llamacpp":
            from agent.backends.llamacpp import make_llamacpp_model

            return make_llamacpp_model(settings)
        case "openai":
            from agent.backends.openai_compat import make_openai_model

            return make_openai_model(settings)
        case "fake":
            from agent.backends.fake import ScriptedChatModel

            return ScriptedChatModel()
