"""The web UI on a real Gradio server: its API endpoints through gradio_client, and the pages in headless
Chromium (Debian's `chromium`, driven by Playwright's Python client; CI installs it).

The model is the scripted fake, slowed down so streaming can be seen; the embedder hashes words.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client

from agent.app import Attune
from agent.backends.fake import ScriptedChatModel
from agent.settings import AttuneSettings
from ui.app import launch

QUESTION = "How do I tell my partner I feel lonely without blaming them?"


class SlowModel(ScriptedChatModel):
    """Streams word by word with a pause, as a real model does, so a page can be seen filling in."""

    delay_s: float = 0.03

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for chunk in super()._stream(*args, **kwargs):
            time.sleep(self.delay_s)
            yield chunk


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from conftest import HashingEmbeddings

    # Outside the temp dir, like the default ~/.local/share/attune: Gradio serves files from the temp dir
    # without asking, so a data folder there hid that run folders and plots were refused.
    home = Path.home() / ".cache" / "attune-ui-tests" / uuid.uuid4().hex
    home.mkdir(parents=True)
    assert not home.resolve().is_relative_to(Path(tempfile.gettempdir()).resolve())
    settings = AttuneSettings(home=home, llm_backend="fake", min_relevance=0.1, safety_classifier=False)
    attune = Attune(settings, model=SlowModel(), embeddings=HashingEmbeddings())
    attune.ingest(progress=False)
    port = _free_port()
    app = launch(attune, "127.0.0.1", port, block=False)
    yield f"http://127.0.0.1:{port}/"
    app.close()
    shutil.rmtree(home, ignore_errors=True)


def _text(message: dict[str, Any]) -> str:
    content = message["content"]
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


# --- the API, endpoint by endpoint -----------------------------------------------------------------------


def test_ask_streams_an_answer_then_its_sources(ui_server):
    client = Client(ui_server, verbose=False)
    updates = list(client.submit(QUESTION, [], api_name="/ask"))
    answers = [_text(u[0][1]) for u in updates if len(u[0]) > 1]
    assert len({a for a in answers if a}) > 3  # the answer grew over several updates: it streamed
    final = updates[-1][0]
    assert _text(final[0]) == QUESTION and "lonely" in _text(final[1])
    assert final[-1]["metadata"]["title"].startswith("Sources") and "[1]" in _text(final[-1])


def test_ask_keeps_the_conversation_per_client(ui_server):
    client = Client(ui_server, verbose=False)
    first = client.predict(QUESTION, [], api_name="/ask")[0]
    second = client.predict("What if they get defensive?", first, api_name="/ask")[0]
    assert [_text(m) for m in second if m["role"] == "user"] == [QUESTION, "What if they get defensive?"]


def test_ask_answers_a_disclosure_with_help(ui_server):
    client = Client(ui_server, verbose=False)
    chat, _, help_panel = client.predict("My husband hits me when he drinks.", [], api_name="/ask")[:3]
    assert "not your fault" in _text(chat[-1])
    assert help_panel.startswith("### You deserve support right now") and "not your fault" in help_panel


def test_a_session_belongs_to_the_client_that_made_it(ui_server):
    mine, theirs = Client(ui_server, verbose=False), Client(ui_server, verbose=False)
    mine.predict("friend-left-out", "", False, api_name="/practice_start")
    mine.predict("I felt left out when I saw the photos. Can we talk about it?", api_name="/practice_say")
    rows = mine.predict(api_name="/progress")[0]["data"]
    session_id = next(row[0] for row in rows if row[2] == "Not invited")
    assert "left out when I saw the photos" in mine.predict(session_id, api_name="/transcript")
    assert all(row[0] != session_id for row in theirs.predict(api_name="/progress")[0]["data"])
    try:  # refused by Gradio (not one of this client's choices) or answered as unknown: never the transcript
        leaked = theirs.predict(session_id, api_name="/transcript")
    except Exception as exc:
        leaked = str(exc)
    assert "photos" not in leaked and ("No such session" in leaked or "not in the list of choices" in leaked)


def test_an_empty_question_adds_no_bubble(ui_server):
    client = Client(ui_server, verbose=False)
    chat = client.predict(QUESTION, [], api_name="/ask")[0]
    again = client.predict("   ", chat, api_name="/ask")[0]
    assert len(again) == len(chat) and [_text(m) for m in again] == [_text(m) for m in chat]


def test_a_question_with_a_lone_surrogate_is_cleaned_and_answered(ui_server):
    chat = _raw_call(ui_server, "ask", ["How do I say \ud800 sorry to my partner?", []])[0]
    assert isinstance(chat, list), chat  # not an error event
    assert _text(chat[0]) == "How do I say  sorry to my partner?" and _text(chat[1])


def test_library_input_errors_leave_the_listing_in_place(ui_server):
    client = Client(ui_server, verbose=False)
    listed = client.predict(api_name="/library_list")[0]
    assert listed["data"]
    for report, rows, _ in (client.predict(None, api_name="/library_add"),
                            client.predict(None, api_name="/library_remove")):
        assert report.startswith("*Choose") or report.startswith("*Pick")
        assert rows.get("__type__") == "update" and "value" not in rows  # the table is left as it is


def test_a_busy_port_is_named_with_the_next_one_to_try(capsys):
    from agent.cli import main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["ui", "--port", str(port)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and f"port {port} is in use; try --port {port + 1}" in err


def test_practice_start_say_retry_end_and_progress(ui_server):
    client = Client(ui_server, verbose=False)
    chat, intro, _, _ = client.predict("plans-changed", "", False, api_name="/practice_start")
    assert "Sam:" in _text(chat[0]) and "Plans changed" in intro
    chat, panel = client.predict("You never listen to me and you are so selfish.", api_name="/practice_say")[:2]
    assert "blame:** criticism" in panel and "**Try:**" in panel and len(chat) == 3
    chat, panel = client.predict("I feel hurt when plans change. Can we talk?", api_name="/practice_retry")[:2]
    assert "The retry scores better, so it replaces your first try." in panel
    assert _text(chat[-2]).startswith("I feel hurt")
    summary, plot = client.predict(api_name="/practice_end")
    assert "Trend:" in summary and plot
    with pytest.raises(Exception, match="has ended"):  # ended means ended: no more turns
        client.predict("One more thing.", api_name="/practice_say")
    rows, _, picker = client.predict(api_name="/progress")
    assert any(row[2] == "Plans changed at the last minute" for row in rows["data"])
    session_id = next(row[0] for row in rows["data"] if row[2] == "Plans changed at the last minute")
    transcript = client.predict(session_id, api_name="/transcript")
    assert transcript.startswith("# Practice: Plans changed") and "attempt 2" in transcript


def test_a_private_session_is_not_listed_and_its_plot_is_never_a_file(ui_server):
    client = Client(ui_server, verbose=False)
    before = len(client.predict(api_name="/progress")[0]["data"])
    client.predict("work-noise-office", "", True, api_name="/practice_start")
    client.predict("I find the calls hard to work through. Could we sort it out?", api_name="/practice_say")
    assert len(client.predict(api_name="/progress")[0]["data"]) == before
    plot = client.predict(api_name="/practice_end")[1]["value"]
    assert plot.startswith("<img") and "data:image/png;base64," in plot  # inside the page, not a temp file


# --- the pages, in a real browser ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium for the browser tests")
        pytest.skip("no chromium on the PATH (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


def _ask_in(page: Any, question: str) -> None:
    page.locator("#ask-box textarea").fill(question)
    page.locator("#ask-send").click()


def test_a_question_in_the_browser_shows_a_streamed_answer_with_sources(ui_server, browser):
    page = browser.new_page()
    page.goto(ui_server)
    page.locator("#ask-box textarea").wait_for()
    _ask_in(page, QUESTION)
    chat = page.locator("#ask-chat")
    lengths = []
    deadline = time.monotonic() + 30
    while "Sources" not in chat.inner_text() and time.monotonic() < deadline:
        lengths.append(len(chat.inner_text()))
        time.sleep(0.1)
    assert "Sources" in chat.inner_text()
    # The question alone, part of the answer, then all of it: the page filled in sentence by sentence (an answer
    # shown in one block would give two lengths).
    assert len(set(lengths)) >= 3
    assert "lonely" in chat.inner_text()
    assert page.locator("#attune-help").is_hidden()
    page.close()


def test_the_help_panel_can_be_closed_and_stays_on_its_tab(ui_server, browser):
    page = browser.new_page()
    page.goto(ui_server)
    page.locator("#ask-box textarea").wait_for()
    for leave in ("close", "tab"):
        _ask_in(page, "My husband hits me when he drinks.")
        help_box = page.locator("#attune-help")
        help_box.get_by_text("You deserve support right now").wait_for(timeout=30000)
        if leave == "close":
            page.locator("#attune-help-close").click()
        else:
            page.get_by_role("tab", name="Practice").click()
        help_box.wait_for(state="hidden", timeout=10000)
        page.get_by_role("tab", name="Ask").click()
        assert help_box.is_hidden()
    page.close()


def test_a_two_turn_practice_in_the_browser_shows_the_coach_panel(ui_server, browser):
    page = browser.new_page()
    page.goto(ui_server)
    page.get_by_role("tab", name="Practice").click()
    page.locator("#practice-start").click()
    page.locator("#practice-chat").get_by_text("Alex:").first.wait_for()  # the first scenario: chores-unequal
    for line in ("You never listen to me and you are so selfish.", "I feel hurt when plans change. Can we talk?"):
        page.locator("#practice-box textarea").fill(line)
        page.locator("#practice-say").click()
        page.locator("#practice-chat").get_by_text(line).wait_for()
    panel = page.locator("#coach-panel")
    panel.get_by_text("Non-blame").wait_for()
    assert "I-statement" in panel.inner_text() or "What worked" in panel.inner_text()
    page.locator("#practice-end").click()
    page.locator("#practice-summary").get_by_text("Trend:").wait_for()
    page.locator("#practice-plot img").wait_for()
    page.close()


def test_two_browser_contexts_keep_their_conversations_apart(ui_server, browser):
    one, two = browser.new_context().new_page(), browser.new_context().new_page()
    for page in (one, two):
        page.goto(ui_server)
        page.locator("#ask-box textarea").wait_for()
    _ask_in(one, "How do I apologise to my sister?")
    _ask_in(two, "How can my flatmate and I share chores?")
    for page in (one, two):
        page.locator("#ask-chat").get_by_text("Sources").wait_for(timeout=30000)
    assert "sister" in one.locator("#ask-chat").inner_text() and "flatmate" not in one.locator("#ask-chat").inner_text()
    assert "flatmate" in two.locator("#ask-chat").inner_text() and "sister" not in two.locator("#ask-chat").inner_text()


def _offline_context(browser: Any, ui_server: str) -> tuple[Any, list[str]]:
    """A browser context with the network closed but for the server: every outside request fails, and is listed."""
    context = browser.new_context()
    outside: list[str] = []
    local = (ui_server.rstrip("/"), "data:", "blob:")

    def only_local(route: Any) -> None:
        if route.request.url.startswith(local):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    return context, outside


def test_the_page_loads_nothing_from_the_internet(ui_server, browser):
    context, outside = _offline_context(browser, ui_server)
    page = context.new_page()
    page.goto(ui_server)
    page.locator("#ask-box textarea").wait_for()
    _ask_in(page, QUESTION)
    page.locator("#ask-chat").get_by_text("Sources").wait_for(timeout=30000)
    assert outside == []
    context.close()


def test_quick_exit_leaves_the_page(ui_server, browser):
    page = browser.new_page()
    page.goto(ui_server)
    page.locator("#quick-exit").click()
    page.wait_for_url("about:blank")
    page.close()


def test_library_adds_an_upload_refuses_a_bad_one_and_removes_it(ui_server, tmp_path):
    from gradio_client import handle_file

    good = tmp_path / "sunday-talks.md"
    marker = f"every Sunday evening about the week ahead, {uuid.uuid4().hex}"  # this run's own words
    good.write_text(f"# Sunday talks\n\nWe agreed to talk {marker} and our needs.\n")
    bad = tmp_path / "notes.md"
    bad.write_bytes(b"\x00\x01binary")
    client = Client(ui_server, verbose=False)
    report, rows, picker = client.predict([handle_file(str(good)), handle_file(str(bad))], api_name="/library_add")
    assert "Added 1 document(s)" in report and "notes.md" in report and "binary" in report
    mine = [r for r in rows["data"] if r[2] == "yes"]
    assert [Path(r[0]).name for r in mine] == ["sunday-talks.md"] and Path(mine[0][0]).is_absolute()
    source = picker["choices"][0][1]
    from gradio.utils import get_upload_folder

    holding = [p for p in Path(get_upload_folder()).rglob("*") if p.is_file() and marker.encode() in p.read_bytes()]
    assert holding == []  # Gradio's temp copy of the upload is not kept
    report, rows, _ = client.predict(source, api_name="/library_remove")
    assert report.startswith("Removed sunday-talks.md") and not [r for r in rows["data"] if r[2] == "yes"]


def test_evaluate_runs_a_suite_and_shows_plots_and_a_table(ui_server):
    client = Client(ui_server, verbose=False)
    summary, criteria, distributions, table = client.predict("relationship_questions.jsonl", 2,
                                                             api_name="/evaluate")
    assert summary.startswith("2 answers: empathy") and len(table["data"]) == 2
    assert criteria and distributions


def test_html_in_messages_is_shown_as_text_never_run(ui_server, browser):
    page = browser.new_page()
    page.goto(ui_server)
    page.locator("#ask-box textarea").wait_for()
    _ask_in(page, 'How do I say sorry? <img src=x onerror="window.pwned=1"><script>window.pwned=2</script>')
    page.locator("#ask-chat").get_by_text("Sources").wait_for(timeout=30000)
    assert page.evaluate("window.pwned === undefined")
    assert page.locator("#ask-chat script").count() == 0 and page.locator("#ask-chat img[onerror]").count() == 0
    page.close()


def test_the_evaluate_tab_shows_its_plots_in_the_browser(ui_server, browser):
    page = browser.new_page()
    page.goto(ui_server)
    page.get_by_role("tab", name="Evaluate").click()
    page.locator("#eval-limit input").fill("1")
    page.locator("#eval-run").click()
    page.locator("#eval-summary").get_by_text("1 answers: empathy").wait_for(timeout=60000)
    for plot in ("#eval-criteria-plot img", "#eval-distribution-plot img"):
        page.locator(plot).wait_for(timeout=10000)
        assert page.locator(plot).evaluate("img => img.complete && img.naturalWidth > 100"), plot
    assert page.get_by_text("Error").count() == 0
    page.close()


def _raw_call(ui_server: str, api_name: str, data: list[Any]) -> list[Any]:
    """Call an endpoint with raw JSON, as an attacker would: gradio_client would upload a local path itself."""
    import json

    import httpx

    body = json.dumps({"data": data}).encode("ascii")  # escapes a lone surrogate as \\ud800, as a browser may send
    event = httpx.post(f"{ui_server}gradio_api/call/{api_name}", content=body,
                       headers={"content-type": "application/json"}, timeout=30).json()["event_id"]
    with httpx.stream("GET", f"{ui_server}gradio_api/call/{api_name}/{event}", timeout=60) as stream:
        lines = list(stream.iter_lines())

    payloads = [json.loads(line[len("data:"):]) for line in lines if line.startswith("data:")]
    results = [p for p in payloads if isinstance(p, list)]
    return results[-1] if results else [json.dumps(payloads)]  # an error event: its message


def test_the_library_reads_only_files_uploaded_through_gradio(ui_server):
    secret = Path.home() / ".cache" / "attune-ui-tests" / f"secret-{uuid.uuid4().hex}.txt"
    secret.write_text("The vault code is 4321. Passwords for the family accounts are kept here.\n")
    try:
        answers = []
        for path in (secret, secret.with_name("does-not-exist.txt")):
            forged = [{"path": str(path), "meta": {"_type": "gradio.FileData"}}]
            report = _raw_call(ui_server, "library_add", [forged])[0]
            # Refused by Gradio's upload check, or else by Attune's own: never read.
            assert "Added" not in report and ("not uploaded" in report or "not uploaded here" in report), report
            answers.append(report.replace(str(path), "PATH").replace(path.name, "NAME"))
        assert answers[0] == answers[1]  # the answer does not tell which files exist
        sources = Client(ui_server, verbose=False).predict(api_name="/library_list")[0]["data"]
        assert not any("secret" in row[0] for row in sources)
    finally:
        secret.unlink()


def test_a_loopback_ui_refuses_other_hosts_and_other_origins(ui_server):
    import httpx

    port = ui_server.rstrip("/").rsplit(":", 1)[1]
    assert httpx.get(ui_server, timeout=10).status_code == 200
    assert httpx.get(ui_server, headers={"Origin": f"http://localhost:{port}"}, timeout=10).status_code == 200
    for headers in ({"Host": "evil.example.com"}, {"Host": f"rebind.attacker.test:{port}"},
                    {"Origin": "http://localhost:9999"}, {"Origin": "https://evil.example.com"}):
        response = httpx.get(f"{ui_server}gradio_api/info", headers=headers, timeout=10)
        assert response.status_code == 403 and "named_endpoints" not in response.text, headers


def test_images_in_questions_and_practice_turns_are_never_fetched(ui_server, browser):
    context, outside = _offline_context(browser, ui_server)
    page = context.new_page()
    page.goto(ui_server)
    page.locator("#ask-box textarea").wait_for()
    _ask_in(page, 'How do I say sorry? ![pixel](http://tracker.example/p.png) <img src="http://tracker.example/q.png">')
    page.locator("#ask-chat").get_by_text("Sources").wait_for(timeout=30000)
    assert "[image: pixel]" in page.locator("#ask-chat").inner_text()
    page.get_by_role("tab", name="Practice").click()
    page.locator("#practice-start").click()
    page.locator("#practice-chat").get_by_text("Alex:").first.wait_for()
    page.locator("#practice-box textarea").fill("I feel hurt. ![me](http://tracker.example/r.png) Can we talk?")
    page.locator("#practice-say").click()
    page.locator("#coach-panel").get_by_text("Non-blame").wait_for(timeout=30000)
    time.sleep(1)  # give any image a chance to be requested
    assert outside == [] and page.locator("img[src*='tracker.example']").count() == 0
    context.close()


def test_no_remote_images_keeps_alt_text_and_drops_media_tags():
    from ui.tabs import no_remote_images

    text = 'a ![x](http://t/p.png) b ![y][ref] <img src="http://t/q.png"> <iframe src="http://t"></iframe> c'
    assert no_remote_images(text) == "a [image: x] b [image: y]   c"


@pytest.fixture(scope="module")
def locked_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from conftest import HashingEmbeddings

    home = tmp_path_factory.mktemp("ui-locked")
    settings = AttuneSettings(home=home, llm_backend="fake", safety_classifier=False, max_file_mb=0.01)
    attune = Attune(settings, model=SlowModel(), embeddings=HashingEmbeddings())
    port = _free_port()
    app = launch(attune, "127.0.0.1", port, password="correct horse", block=False)
    from ui.app import QUEUE_MAX

    assert app._queue.max_size == QUEUE_MAX  # waiting events are bounded
    yield f"http://127.0.0.1:{port}/"
    app.close()


def test_guessing_the_password_is_throttled_and_uploads_are_bounded(locked_server):
    import httpx

    with httpx.Client(base_url=locked_server, timeout=10) as http:  # logged in: an upload over the limit
        assert http.post("login", data={"username": "attune", "password": "correct horse"}).status_code == 200
        small = {"files": ("small.md", b"# Small\nListen first.\n", "text/markdown")}
        assert http.post("gradio_api/upload", files=small).status_code == 200
        big = {"files": ("big.md", b"# Big\n" + b"x" * 20_000, "text/markdown")}
        assert http.post("gradio_api/upload", files=big).status_code == 413
    with httpx.Client(base_url=locked_server, timeout=10) as http:
        wrong = [http.post("login", data={"username": "attune", "password": f"guess{n}"}) for n in range(200)]
        assert all(r.status_code >= 400 for r in wrong)
        # Past five wrong tries a minute, even the right password waits: 200 guesses got five real checks.
        assert http.post("login", data={"username": "attune", "password": "correct horse"}).status_code >= 400


def test_the_login_throttle_lets_the_right_password_in_once_the_window_passes():
    from ui.guards import LoginThrottle

    check = LoginThrottle("secret", limit=2, window_s=0.2)
    assert check("attune", "secret")
    assert not check("attune", "a") and not check("attune", "b")
    assert not check("attune", "secret")  # throttled
    time.sleep(0.25)
    assert check("attune", "secret") and not check("someone", "secret")


def test_the_model_picker_lists_the_models_and_refuses_a_switch_the_settings_forbid(ui_server):
    client = Client(ui_server, verbose=False)
    note = client.predict("bundled", api_name="/use_model")
    # The test server runs the fake backend: a setting fixes the model, and the page says so instead of failing.
    assert "fixed by the settings" in note
