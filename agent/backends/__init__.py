"""The one chat-model factory: settings in, a langchain `BaseChatModel` out.

Each backend's heavy import happens only when that backend is chosen; nothing else knows which runs.
"""

from __future__ import annotations

from langchain_core.language_models.chat_models import BaseChatModel

from agent.settings import AttuneSettings


class BackendUnavailable(RuntimeError):
    """The configured model cannot be used; the message says what to fix, in one line."""


# Like pydantic-ai's ALLOW_MODEL_REQUESTS: unit tests set it to False, and then loading a real model or calling
# a model server fails at once, wherever in Attune (the CLI, the UI, the bench) the model was built.
ALLOW_MODEL_REQUESTS = True


class ModelRequestsRefused(AssertionError):
    """A real model was about to be loaded or called while ALLOW_MODEL_REQUESTS is False."""


def check_allow_model_requests() -> None:
    if not ALLOW_MODEL_REQUESTS:
        raise ModelRequestsRefused("a real model was about to run with ALLOW_MODEL_REQUESTS off (a unit test?)")


def make_chat_model(settings: AttuneSettings) -> BaseChatModel:
    match settings.model.kind:
        case "llamacpp":
            from agent.backends.llamacpp import make_llamacpp_model

            return make_llamacpp_model(settings)
        case "openai":
            from agent.backends.openai_compat import make_openai_model

            check_allow_model_requests()
            return make_openai_model(settings)
        case "fake":
            from agent.backends.fake import ScriptedChatModel

            return ScriptedChatModel()
