"""Attune's settings: one typed object, in groups (model, retrieval, ask, practice, safety, ui), built once per
command and passed down.

Sources, highest first: keyword arguments (CLI flags), `ATTUNE_<GROUP>__<NAME>` environment variables (e.g.
`ATTUNE_MODEL__PATH`, `ATTUNE_RETRIEVAL__TOP_K`), the flat names of Attune 0.1 (`ATTUNE_MODEL_PATH`, `ATTUNE_TOP_K`;
still read, see `FLAT_NAMES`), an optional `attune.toml` with one table per group (the file `attune --config` or
`ATTUNE_CONFIG` names, else the user's own `~/.config/attune/attune.toml`), then the defaults below: the one place
each default is written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
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


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


def _expand(value: Path | None) -> Path | None:
    return value.expanduser() if value is not None else None


class ModelSettings(_Group):
    """The chat model: in-process llama.cpp (the bundled GGUF or yours) or an OpenAI-compatible server."""

    backend: Literal["auto", "llamacpp", "openai", "fake"] = Field(
        "auto",
        description="auto: an OpenAI-compatible server when base_url is set, else in-process llama.cpp. "
        "fake: a deterministic canned model for tests and demos.",
    )
    path: Path | None = Field(
        None, description="A GGUF file to run in-process; default: the bundled SmolLM2-135M-Instruct."
    )
    chat_format: str | None = Field(
        None,
        description="llama-cpp-python chat format (e.g. chatml, llama-3) for a GGUF that has no chat template; "
        "default: the template stored in the GGUF.",
    )
    base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1."
    )
    api_key: str = Field("not-needed", description="API key for the OpenAI-compatible server.")
    name: str = Field("local-model", description="Model name sent to the OpenAI-compatible server.")
    n_ctx: int = Field(4096, ge=512, description="Context window for in-process llama.cpp, in tokens.")
    n_threads: int | None = Field(
        None,
        ge=1,
        description="CPU threads for llama.cpp; default: before each answer, the cores free then "
        "(at most all cores up to 4, else half of them).",
    )
    flash_attn: bool = Field(True, description="llama.cpp flash attention (measured 15% faster decoding here).")
    kv_type: Literal["f16", "q8_0"] = Field(
        "q8_0",
        description="Number format of the model's attention cache: q8_0 halves it (42 MB less resident for the "
        "bundled model at n_ctx 4096); values are quantised only with flash_attn on, keys always.",
    )
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

    @field_validator("path", mode="after")
    @classmethod
    def _expand_path(cls, value: Path | None) -> Path | None:
        return _expand(value)

    @property
    def kind(self) -> Literal["llamacpp", "openai", "fake"]:
        """The backend in force: `backend`, with auto resolved."""
        if self.backend != "auto":
            return self.backend
        return "openai" if self.base_url else "llamacpp"


class RetrievalSettings(_Group):
    """The library and how passages are found for a question."""

    embedder: Path | None = Field(
        None,
        description="A GGUF embedding model (BERT family, e.g. made by `python -m knowledge.embedder_build`); "
        "default: all-MiniLM-L6-v2, shipped with Attune. The rubric's and safety's models were trained on its "
        "vectors, and the library must be re-ingested after a change.",
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
    max_file_mb: float = Field(20.0, gt=0, description="Largest document `attune ingest` accepts, in MB.")

    @field_validator("embedder", mode="after")
    @classmethod
    def _expand_path(cls, value: Path | None) -> Path | None:
        return _expand(value)


class AskSettings(_Group):
    """Answering a question: condensing follow-ups, rubric-guided redrafts, what is accepted."""

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


class PracticeSettings(_Group):
    """Role-play practice."""

    max_turn_chars: int = Field(2000, ge=1, description="Longest practice turn accepted, in characters.")
    partner_lines: Literal["auto", "model", "card"] = Field(
        "auto",
        description="Who writes the other person's lines: the chat model (checked, with the scenario card's words "
        "as the fallback), or the card alone. auto: the card for the bundled 135M model, whose own lines were "
        "mostly incoherent or out of role when read (docs/measurements.md), the model for any other.",
    )
    partner_candidates: int = Field(
        3, ge=1, le=8,
        description="When the model writes the other person's lines: lines drafted per turn (the first greedy, "
        "the rest sampled) until one passes the character checks; the card speaks when none does.",
    )


class SafetySettings(_Group):
    """The safety check on every message and the help it points to."""

    help_resources: Path | None = Field(
        None,
        description="A TOML file of help resources shown when the safety check fires (see agent/help_resources.toml "
        "for the format); default: international ones.",
    )
    classifier: bool = Field(
        True,
        description="Back the safety rules with the learned sentence classifier (needs the embedder, which asking "
        "and practice load anyway).",
    )

    @field_validator("help_resources", mode="after")
    @classmethod
    def _expand_path(cls, value: Path | None) -> Path | None:
        return _expand(value)


class UISettings(_Group):
    """The web UI."""

    password: str | None = Field(
        None,
        description="Password for `attune ui` (user name: attune); set it whenever the UI listens beyond loopback.",
    )


GROUPS: dict[str, type[_Group]] = {
    "model": ModelSettings,
    "retrieval": RetrievalSettings,
    "ask": AskSettings,
    "practice": PracticeSettings,
    "safety": SafetySettings,
    "ui": UISettings,
}

# Attune 0.1's flat names (environment `ATTUNE_<NAME>`, keyword arguments, top-level keys of attune.toml), still
# read so an existing set-up keeps working: flat name -> (group, name).
FLAT_NAMES: dict[str, tuple[str, str]] = {
    "llm_backend": ("model", "backend"),
    "model_path": ("model", "path"),
    "llm_base_url": ("model", "base_url"),
    "llm_api_key": ("model", "api_key"),
    "llm_model": ("model", "name"),
    **{name: ("model", name) for name in ("chat_format", "n_ctx", "n_threads", "flash_attn", "kv_cache_mb",
                                          "n_gpu_layers", "temperature", "repeat_penalty", "max_tokens", "seed")},
    "embedding_model_path": ("retrieval", "embedder"),
    **{name: ("retrieval", name) for name in ("collection", "chroma_url", "chunk_size", "chunk_overlap", "top_k",
                                              "passage_chars", "min_relevance", "max_file_mb")},
    **{name: ("ask", name) for name in ("condense", "candidates", "guided_temperature", "max_question_chars")},
    "max_turn_chars": ("practice", "max_turn_chars"),
    "safety_classifier": ("safety", "classifier"),
    "help_resources": ("safety", "help_resources"),
    "ui_password": ("ui", "password"),
}


def nest_flat_names(data: dict[str, Any]) -> dict[str, Any]:
    """`{"top_k": 2}` -> `{"retrieval": {"top_k": 2}}`; nested values are kept, a flat name given alongside wins."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items() if k not in FLAT_NAMES}
    for flat, (group, name) in FLAT_NAMES.items():
        if flat in data:
            section = out.setdefault(group, {})
            if isinstance(section, dict):
                section[name] = data[flat]
    return out


class FlatEnvironment(PydanticBaseSettingsSource):
    """`ATTUNE_MODEL_PATH` and the other flat names of Attune 0.1, read below the nested `ATTUNE_MODEL__PATH`."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads the environment itself

    def __call__(self) -> dict[str, Any]:
        names = {flat: f"ATTUNE_{flat.upper()}" for flat in FLAT_NAMES}
        return nest_flat_names({flat: os.environ[var] for flat, var in names.items() if var in os.environ})


class _TomlFile(TomlConfigSettingsSource):
    """attune.toml, its flat 0.1 keys nested here, so the environment still beats the file whatever the names."""

    def __call__(self) -> dict[str, Any]:
        return nest_flat_names(super().__call__())


class AttuneSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATTUNE_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    home: Path = Field(default_factory=default_home, description="Data folder: the index and saved sessions.")
    model: ModelSettings = Field(default_factory=lambda: ModelSettings.model_validate({}))
    retrieval: RetrievalSettings = Field(default_factory=lambda: RetrievalSettings.model_validate({}))
    ask: AskSettings = Field(default_factory=lambda: AskSettings.model_validate({}))
    practice: PracticeSettings = Field(default_factory=lambda: PracticeSettings.model_validate({}))
    safety: SafetySettings = Field(default_factory=lambda: SafetySettings.model_validate({}))
    ui: UISettings = Field(default_factory=lambda: UISettings.model_validate({}))

    @field_validator("home", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @model_validator(mode="before")
    @classmethod
    def _accept_flat_names(cls, data: Any) -> Any:
        return nest_flat_names(data) if isinstance(data, dict) else data

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, FlatEnvironment(settings_cls)]
        toml = config_file()
        if toml is not None:
            sources.append(_TomlFile(settings_cls, toml_file=toml))
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


def setting_field(dotted: str) -> Any:
    """The field of a setting named "group.name" (or "home"): its default and description, for help texts."""
    if "." not in dotted:
        return AttuneSettings.model_fields[dotted]
    group, name = dotted.split(".", 1)
    return GROUPS[group].model_fields[name]


def load_settings(**overrides: Any) -> AttuneSettings:
    """Build settings from the sources above. Overrides are "group.name" or flat names; `None` (an unset CLI flag)
    is ignored."""
    nested: dict[str, Any] = {}
    for key, value in overrides.items():
        if value is None:
            continue
        if "." in key:
            group, name = key.split(".", 1)
            nested.setdefault(group, {})[name] = value
        else:
            nested[key] = value
    return AttuneSettings(**nested)
