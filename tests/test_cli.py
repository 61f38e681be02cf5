import pytest

from agent.cli import build_parser, main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", [[], ["ingest"], ["ask"]])
def test_every_command_has_help(capsys, command):
    with pytest.raises(SystemExit) as exc:
        main([*command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "usage: attune" in out
    assert "coach, not a therapist" in out or command == ["ingest"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask", ""], "the question is empty"),
        (["ask", "   "], "the question is empty"),
        (["ask", "x" * 2001], "the question is 2001 characters long; the limit is 2000"),
        (["ask", "--top-k", "0", "hi"], "invalid setting retrieval.top_k"),
    ],
)
def test_bad_questions_exit_2_with_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and message in err and err.startswith("attune ask: error:")
    assert out == ""


def test_missing_model_file_names_the_path_and_the_fix(capsys, tmp_path):
    code, _, err = run(capsys, "ask", "--model", str(tmp_path / "gone.gguf"), "How do I say sorry?")
    assert code == 2 and err.count("\n") == 1
    assert str(tmp_path / "gone.gguf") in err and "ATTUNE_MODEL__PATH" in err


def test_argparse_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["ask", "--top-k", "many", "q"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid int value" in err


def test_no_command_prints_help_and_fails(capsys):
    code, out, _ = run(capsys)
    assert code == 2 and "ingest" in out and "ask" in out


def test_help_shows_the_settings_own_defaults_and_no_doubled_percent(capsys):
    from agent.settings import AskSettings, RetrievalSettings

    with pytest.raises(SystemExit):
        main(["ask", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert f"(default {RetrievalSettings().top_k})" in out
    assert f"default {AskSettings().candidates})" in out
    with pytest.raises(SystemExit):
        main(["eval", "safety", "--help"])
    out = capsys.readouterr().out
    assert "2%" in out and "%%" not in out


def test_ingest_of_a_missing_path_exits_2_naming_it(capsys, tmp_path):
    code, _, err = run(capsys, "ingest", str(tmp_path / "gone.md"))
    assert code == 2 and err.count("\n") == 1 and "no such file or folder" in err and "gone.md" in err
