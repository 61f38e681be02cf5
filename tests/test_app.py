"""The application core, `Attune(settings)`: the use cases every entry point calls, on the fake model and the
hashing embedder."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import HashingEmbeddings

from agent.app import Attune
from agent.backends.fake import ScriptedChatModel
from agent.practice.scenarios import get_scenario
from agent.practice.session import SafetyStop
from agent.practice.store import SessionNotFound
from agent.settings import AttuneSettings


@pytest.fixture
def app(tmp_path: Path) -> Attune:
    settings = AttuneSettings(home=tmp_path / "home", llm_backend="fake", min_relevance=0.1)
    return Attune(settings, model=ScriptedChatModel(default_reply="Okay."), embeddings=HashingEmbeddings())


def test_an_empty_library_is_filled_once_and_said(app: Attune):
    said: list[str] = []
    first = app.prepare_library(said.append, progress=False)
    assert first is not None and first.chunks_total > 0 and said == [
        "The library is empty: indexing the bundled articles first."
    ]
    assert app.prepare_library(said.append, progress=False) is None and len(said) == 1
    assert {d.yours for d in app.documents()} == {False}


def test_each_part_is_built_once_and_shared(app: Attune):
    assert app.coach is app.coach and app.library is app.library
    assert app.coach.scorer is app.scorer and app.coach.safety_check is app.safety_check
    assert app.coach.model is app.model


def test_uploads_are_kept_only_when_they_reach_the_library(app: Attune):
    app.prepare_library(progress=False)
    text = b"# Repair\n\nA repair attempt says sorry for the tone and asks to start again, gently.\n"
    added = app.add_uploads([("notes.md", text), ("again.md", text), ("letter.docx", b"x"), ("empty.md", b"")])
    assert added.ingest is not None and len(added.ingest.files_added) == 1
    reasons = dict(added.skipped)
    assert "already in the library" in reasons["again.md"]
    assert "unsupported type .docx" in reasons["letter.docx"] and "empty" in reasons["empty.md"]
    yours = [d for d in app.documents() if d.yours]
    assert len(yours) == 1 and Path(yours[0].source).parent == app.settings.uploads_dir.resolve()
    assert sorted(p.name for p in app.settings.uploads_dir.iterdir()) == ["notes.md"]  # the duplicate is gone
    assert app.remove_document(yours[0].source) > 0
    assert not any(d.yours for d in app.documents()) and not any(app.settings.uploads_dir.iterdir())
    with pytest.raises(ValueError, match="only your own"):
        app.remove_document(app.documents()[0].source)


def test_forget_deletes_sessions_and_your_documents_and_keeps_the_bundled_ones(app: Attune):
    app.prepare_library(progress=False)
    app.add_uploads([("mine.md", b"# Mine\n\nMy own note about listening before answering.\n")])
    app.start_practice(get_scenario("plans-changed")).say("I feel hurt when plans change.")
    report = app.forget(sessions=True, documents=True)
    assert report.sessions_deleted == 1 and len(report.documents_deleted or []) == 1
    assert app.sessions.list() == [] and all(not d.yours for d in app.documents()) and app.documents()


def test_practice_from_the_core_has_the_safety_check_in_force(app: Attune):
    session = app.start_practice(get_scenario("plans-changed"), owner="browser:a")
    with pytest.raises(SafetyStop):
        session.say("When he drinks he hits me and I'm scared to go home.")
    assert app.resume_practice(session.id, owner="browser:a").id == session.id
    with pytest.raises(SessionNotFound):
        app.resume_practice(session.id, owner="browser:b")


def test_an_unsaved_session_leaves_nothing_in_the_store(app: Attune):
    session = app.start_practice(get_scenario("plans-changed"), save=False)
    session.say("I feel hurt when plans change.")
    assert not session.store.saved and app.sessions.list() == []
    assert app.resume_practice(session.id, store=session.store).record().active_turns


def test_switching_the_model_rebuilds_the_model_and_the_coach_on_the_chosen_file(tmp_path: Path, monkeypatch):
    import shutil

    from agent.backends.llamacpp import bundled_model_path, resolve_model_path
    from agent.models import ModelChoiceError, catalog

    built: list[Path] = []

    def fake_factory(settings: AttuneSettings) -> ScriptedChatModel:
        built.append(resolve_model_path(settings))  # the file llama.cpp would load
        return ScriptedChatModel(default_reply="Okay.")

    monkeypatch.setattr("agent.backends.make_chat_model", fake_factory)
    app = Attune(AttuneSettings(home=tmp_path), embeddings=HashingEmbeddings())
    model = catalog()["qwen2.5-1.5b"]
    assert app.model_choices() == ["bundled"] and app.current_model() == "bundled"
    with pytest.raises(ModelChoiceError, match="not downloaded yet"):
        app.use_model(model.name)
    (tmp_path / "models").mkdir()
    shutil.copy(bundled_model_path(), tmp_path / "models" / model.filename)  # as `attune models pull` leaves it
    first_coach = app.coach
    assert app.model_choices() == ["bundled", model.name]
    app.use_model(model.name)
    assert app.current_model() == model.name and app.coach is not first_coach and app.coach.model is app.model
    assert built == [bundled_model_path(), tmp_path / "models" / model.filename]
    app.use_model("bundled")
    _ = app.model
    assert built[-1] == bundled_model_path()
    fixed = Attune(AttuneSettings(home=tmp_path, model_path=bundled_model_path()))
    with pytest.raises(ModelChoiceError, match="fixed by the settings"):
        fixed.use_model(model.name)


def test_the_bundled_model_leaves_the_partners_lines_to_the_card(tmp_path: Path, monkeypatch):
    from agent.backends.llamacpp import bundled_model_path

    calls: list[object] = []

    def fake_factory(settings: AttuneSettings) -> ScriptedChatModel:
        calls.append(settings)
        return ScriptedChatModel(default_reply="Whatever you say.")

    monkeypatch.setattr("agent.backends.make_chat_model", fake_factory)
    bundled = Attune(AttuneSettings(home=tmp_path), embeddings=HashingEmbeddings())
    assert not bundled.partner_writes_lines()  # auto, on the bundled 135M model: the card's words
    turn = bundled.start_practice(get_scenario("plans-changed"), save=False).say("I feel hurt when plans change.")
    assert turn.partner_source == "script"
    forced = AttuneSettings(home=tmp_path, practice={"partner_lines": "model"})
    assert Attune(forced, embeddings=HashingEmbeddings()).partner_writes_lines()
    other = AttuneSettings(home=tmp_path / "o", model_path=tmp_path / "big.gguf")
    (tmp_path / "big.gguf").write_bytes(bundled_model_path().read_bytes()[:64])
    assert Attune(other, embeddings=HashingEmbeddings()).partner_writes_lines()  # any other model writes them
