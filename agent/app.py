"""Attune's application core: the runtime (model, embedder, library, scorer, safety check, saved sessions)
and the use cases every entry point calls, so the CLIs, the web UI and the bench are thin adapters.

Each part is built on first use and once per `Attune`, so a command that only lists sessions never loads a model.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel

from agent import backends
from agent.coach import AnswerStream, Coach
from agent.followup import ConversationTurn
from agent.models import BUNDLED, ModelChoiceError, catalog, choose, chosen_model_file, local_file
from agent.practice.scenarios import Relationship, Scenario, load_scenarios, scenario_from_description
from agent.practice.session import PracticeSession
from agent.practice.store import ANY_OWNER, Owner, SessionStore, forget_sessions
from agent.safety import HelpResources, SafetyCheck, SafetyCheckFn, check_message, load_help_resources
from agent.settings import AttuneSettings
from eval.rubric import FastScorer, Scorer
from knowledge.embeddings import make_embeddings
from knowledge.ingest import BUNDLED_PREFIX, ingest, is_yours
from knowledge.library import LazyEmbeddings, Library, compact_index
from knowledge.loaders import UnreadableDocument
from knowledge.retrieve import HybridRetriever
from knowledge.types import IngestReport
from knowledge.uploads import save_upload

T = TypeVar("T")


@dataclass(frozen=True)
class Document:
    """One document in the library, as a person sees it."""

    source: str  # the full path of your own documents; "attune-library/NAME" for the bundled articles
    title: str
    yours: bool

    @property
    def shown_name(self) -> str:
        return self.source if self.yours else self.source.removeprefix(BUNDLED_PREFIX)


@dataclass
class ForgetReport:
    sessions_deleted: int | None = None
    documents_deleted: list[str] | None = None

    def to_json(self) -> dict[str, object]:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass
class AddReport:
    """What adding uploaded files did: the ingest report, and a reason for every file not added."""

    ingest: IngestReport | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, why)


class Attune:
    """One Attune: what the CLIs, the UI and the bench share, built from settings.

    `model` and `embeddings` replace the configured ones (tests, or parts already loaded); everything else follows
    the settings. Safe to share between threads once built: the UI builds the model and the coach before serving.
    """

    def __init__(
        self, settings: AttuneSettings, *, model: BaseChatModel | None = None, embeddings: Embeddings | None = None
    ) -> None:
        self.settings = settings
        self._given_model = model
        self._given_embeddings = embeddings
        self._lock = threading.RLock()

    def _once(self, name: str, build: Callable[[], T]) -> T:
        with self._lock:  # two browser tabs asking at once must not load two models
            if name not in self.__dict__:
                self.__dict__[name] = build()
            return self.__dict__[name]  # type: ignore[no-any-return]

    # The runtime.

    @property
    def model(self) -> BaseChatModel:
        return self._once("_model", lambda: self._given_model or backends.make_chat_model(self.settings))

    @property
    def embeddings(self) -> Embeddings:
        """The sentence embedder, loaded on first use and shared by the library, the rubric and the safety check."""
        return self._once(
            "_embeddings",
            lambda: self._given_embeddings or LazyEmbeddings(lambda: make_embeddings(self.settings.retrieval.embedder)),
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        """Texts -> unit vectors, as the rubric and the safety classifier want them."""
        return np.asarray(self.embeddings.embed_documents(texts), dtype=np.float64)

    @property
    def library(self) -> Library:
        s, r = self.settings, self.settings.retrieval
        return self._once(
            "_library", lambda: Library(s.chroma_path, self.embeddings, collection=r.collection, url=r.chroma_url)
        )

    @property
    def scorer(self) -> Scorer:
        return self._once("_scorer", lambda: FastScorer(self.embed))

    @property
    def safety_check(self) -> SafetyCheckFn:
        """The rules, backed by the learned classifier unless the settings turn it off."""
        return self._once(
            "_safety", lambda: SafetyCheck(self.embed) if self.settings.safety.classifier else check_message
        )

    @property
    def help_resources(self) -> HelpResources:
        return self._once("_help", lambda: load_help_resources(self.settings.safety.help_resources))

    @property
    def sessions(self) -> SessionStore:
        return self._once("_sessions", lambda: SessionStore(self.settings.sessions_db))

    @property
    def coach(self) -> Coach:
        s = self.settings
        return self._once(
            "_coach",
            lambda: Coach(
                self.model,
                HybridRetriever(self.library, top_k=s.retrieval.top_k, min_relevance=s.retrieval.min_relevance),
                s,
                self.scorer,
                safety_check=self.safety_check,
                help_resources=self.help_resources,
            ),
        )

    # Documents.

    def ingest(
        self, paths: Iterable[Path] | None = None, *, prune: bool = False, progress: bool = True
    ) -> IngestReport:
        """Index files or folders (default: the bundled articles); unchanged files are skipped."""
        s = self.settings
        return ingest(
            self.library,
            paths,
            prune=prune,
            chunk_size=s.retrieval.chunk_size,
            chunk_overlap=s.retrieval.chunk_overlap,
            max_bytes=int(s.retrieval.max_file_mb * 1_000_000),
            progress=progress,
        )

    def prepare_library(
        self, say: Callable[[str], None] | None = None, *, progress: bool = True
    ) -> IngestReport | None:
        """Index the bundled articles when the library is empty, so a first question has something to cite."""
        if self.library.count() > 0:
            return None
        if say:
            say("The library is empty: indexing the bundled articles first.")
        return self.ingest(progress=progress)

    def documents(self) -> list[Document]:
        return [Document(src, title, is_yours(src)) for src, title in sorted(self.library.sources().items())]

    def add_uploads(self, uploads: Sequence[tuple[str, bytes]], *, progress: bool = True) -> AddReport:
        """Save uploaded files (name, bytes) under safe names in the uploads folder and index them. An upload that
        cannot be read or is already in the library is not kept, so the folder holds only what the library holds."""
        s = self.settings
        report = AddReport()
        saved: list[Path] = []
        for name, data in uploads:
            try:
                saved.append(save_upload(s.uploads_dir, name, data, int(s.retrieval.max_file_mb * 1_000_000)))
            except UnreadableDocument as exc:
                report.skipped.append((name, str(exc)))
        if not saved:
            return report
        report.ingest = self.ingest(saved, progress=progress)
        report.skipped += [(Path(f.path).name, f.reason) for f in report.ingest.failures]
        report.skipped += [
            (Path(p).name, f"already in the library as `{twin}`") for p, twin in report.ingest.files_duplicate
        ]
        for failed in [f.path for f in report.ingest.failures] + [p for p, _ in report.ingest.files_duplicate]:
            Path(failed).unlink(missing_ok=True)
        return report

    def remove_document(self, source: str) -> int:
        """Remove one of your documents from the library (and its upload copy); returns the passages removed.

        The text stays in the index files until the next `forget`, which rebuilds them."""
        if not is_yours(source):
            raise ValueError("only your own documents can be removed")
        removed = self.library.delete_source(source)
        path = Path(source)
        if path.resolve().parent == self.settings.uploads_dir.resolve():
            path.unlink(missing_ok=True)
        return removed

    def forget(self, *, sessions: bool, documents: bool) -> ForgetReport:
        """Delete practice sessions and plots, and/or your own documents (the index rebuilt without them)."""
        s = self.settings
        report = ForgetReport()
        if sessions:
            report.sessions_deleted = forget_sessions(s.sessions_db)
            with self._lock:
                self.__dict__.pop("_sessions", None)  # its database file is gone: the next use makes a new one
            shutil.rmtree(s.plots_dir, ignore_errors=True)
        if documents:
            removed: list[str] = []
            if s.retrieval.chroma_url or s.chroma_path.exists():
                for doc in self.documents():
                    if doc.yours:
                        self.library.delete_source(doc.source)
                        removed.append(doc.source)
                if removed and not s.retrieval.chroma_url:
                    compact_index(s.chroma_path, s.retrieval.collection)  # deleted text must not linger on disk
            shutil.rmtree(s.uploads_dir, ignore_errors=True)
            report.documents_deleted = removed
        return report

    # Asking.

    def ask(
        self, question: str, history: Sequence[ConversationTurn] = (), *, candidates: int | None = None
    ) -> AnswerStream:
        return self.coach.ask(question, history, candidates=candidates)

    # Practice.

    def scenarios(self) -> dict[str, Scenario]:
        return load_scenarios()

    def scenario_from_description(
        self, description: str, relationship: Relationship = "partner", name: str = "Sam"
    ) -> Scenario:
        return scenario_from_description(description, relationship=relationship, name=name, model=self.model)

    def start_practice(self, scenario: Scenario, *, owner: str | None = None, save: bool = True) -> PracticeSession:
        """A new session; with `save=False` it lives in memory only and nothing reaches the disk."""
        store = self.sessions if save else SessionStore(None)
        return PracticeSession.start(
            store, scenario, self.model, self.scorer, self.safety_check, owner=owner,
            max_turn_chars=self.settings.practice.max_turn_chars, model_lines=self.partner_writes_lines(),
            partner_candidates=self.settings.practice.partner_candidates,
        )

    def resume_practice(
        self, session_id: str, *, store: SessionStore | None = None, owner: Owner = ANY_OWNER
    ) -> PracticeSession:
        """A saved session (or one in `store`, for an unsaved one), refused when `owner` does not own it."""
        return PracticeSession.resume(
            store or self.sessions, session_id, self.model, self.scorer, self.safety_check, owner=owner,
            max_turn_chars=self.settings.practice.max_turn_chars, model_lines=self.partner_writes_lines(),
            partner_candidates=self.settings.practice.partner_candidates,
        )

    def partner_writes_lines(self) -> bool:
        """Whether the chat model writes the other person's lines (else the scenario card's words alone)."""
        choice = self.settings.practice.partner_lines
        if choice != "auto":
            return choice == "model"
        if self._given_model is not None or self.settings.model.kind != "llamacpp":
            return True
        from agent.backends.llamacpp import bundled_model_path, resolve_model_path

        return resolve_model_path(self.settings) != bundled_model_path()

    # Models.

    def model_choices(self) -> list[str]:
        """The models a person can switch to here: the bundled one and every curated model already downloaded."""
        return [BUNDLED] + [m.name for m in catalog().values() if local_file(self.settings, m).is_file()]

    def current_model(self) -> str:
        chosen = chosen_model_file(self.settings)
        names = {local_file(self.settings, m): m.name for m in catalog().values()}
        return names.get(chosen, BUNDLED) if chosen else BUNDLED

    def use_model(self, name: str) -> Path | None:
        """Make a downloaded model (or the bundled one) the default, and run it from the next answer or turn on.

        Raises ModelChoiceError for a model that is unknown or not downloaded, or when the settings fix the model
        (a model path or a server), which a choice made here could not override."""
        if self.settings.model.path or self.settings.model.kind != "llamacpp":
            raise ModelChoiceError("the model is fixed by the settings (a model path or a server); change it there")
        path = choose(self.settings, name, catalog())
        with self._lock:
            for part in ("_model", "_coach"):  # both hold the old model; the next use loads the new one
                self.__dict__.pop(part, None)
        return path

    def warm(self) -> None:
        """Build the shared parts now (before a server takes requests from several threads)."""
        _ = self.coach, self.sessions
