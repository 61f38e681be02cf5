from pathlib import Path

import pytest

from knowledge.ingest import BUNDLED_PREFIX, bundled_files, ingest
from knowledge.library import Library
from knowledge.split import split_markdown


def test_split_keeps_sections_and_derives_ids_from_content():
    md = (
        "# T\n\n## Listening\n\nPut the phone away and look at them.\n\n"
        "### 1. Reflect\n\nSay back what you heard them say.\n"
    )
    a = split_markdown(md, "s")
    assert [c.section for c in a] == ["Listening", "Listening › 1. Reflect"]
    assert [c.id for c in a] == [c.id for c in split_markdown(md, "s")]
    assert a[0].id != split_markdown(md, "other-source")[0].id


def test_bundled_library_ingests_once(library):
    first = ingest(library, progress=False)
    assert first.ok and len(first.files_added) == 4
    count = library.count()
    assert count == first.chunks_added > 40
    assert set(library.sources()) == {BUNDLED_PREFIX + p.name for p in bundled_files()}
    again = ingest(library, progress=False)
    assert (again.chunks_added, again.chunks_removed, library.count()) == (0, 0, count)
    assert len(again.files_unchanged) == 4


def test_changed_file_replaces_its_chunks_and_prune_removes_gone_files(library, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    note = docs / "note.md"
    note.write_text("# Note\n\n## Apologies\n\nA sincere apology names what you did and how it affected them.\n")
    other = docs / "other.txt"
    other.write_text("Checking In\n\nAsk each evening how the other person's day really went, and listen.\n")
    report = ingest(library, [docs], progress=False)
    assert report.ok and library.count() == 2

    note.write_text("# Note\n\n## Apologies\n\nAn apology without an excuse lands better than one with a but.\n")
    report = ingest(library, [docs], progress=False)
    assert (report.files_updated, report.chunks_added, report.chunks_removed) == ([str(note)], 1, 1)
    assert "excuse" in " ".join(c.text for c in library.all_chunks())

    other.unlink()
    report = ingest(library, [docs], prune=True, progress=False)
    assert report.files_pruned == [str(other.resolve())]
    assert library.count() == 1


def test_unreadable_files_are_reported_and_the_rest_ingested(library, tmp_path):
    (tmp_path / "good.md").write_text("# Good\n\nSay what you feel and what you need, kindly and clearly.\n")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02 binary")
    report = ingest(library, [tmp_path / "good.md", tmp_path / "empty.txt", tmp_path / "binary.txt",
                              tmp_path / "missing.md"], progress=False)
    assert not report.ok
    assert {Path(f.path).name: f.reason for f in report.failures} == {
        "empty.txt": "empty file",
        "binary.txt": "binary file, not text",
        "missing.md": "no such file or folder",
    }
    assert report.files_added == [str(tmp_path / "good.md")]
    assert library.count() == 1


def test_the_same_document_under_another_path_is_indexed_once_and_cited_once(library, tmp_path):
    from knowledge.retrieve import HybridRetriever

    text = "# Repair\n\n## Repairs\n\nA repair attempt after a fight says sorry for the tone and asks to restart.\n"
    first, second = tmp_path / "a" / "repair.md", tmp_path / "b" / "repair.md"
    for path in (first, second):
        path.parent.mkdir()
        path.write_text(text)
    assert ingest(library, [first], progress=False).files_added == [str(first)]
    count = library.count()
    report = ingest(library, [second], progress=False)
    assert report.files_duplicate == [(str(second), str(first.resolve()))] and not report.files_added
    assert library.count() == count and list(library.sources()) == [str(first.resolve())]
    again = ingest(library, [first], progress=False)  # the original itself is not its own duplicate
    assert again.files_unchanged == [str(first)] and not again.files_duplicate
    # An index written before digests existed may hold the same text twice: retrieval cites it once.
    chunk = library.all_chunks()[0]
    from knowledge.types import Chunk

    library.add("/elsewhere/old-copy.md", "Repair", [Chunk("old", chunk.text, chunk.section)],
                library.embeddings.embed_documents([chunk.text]))
    passages = HybridRetriever(library, top_k=4, min_relevance=0.0).retrieve("repair attempt after a fight")
    assert [p.text for p in passages].count(chunk.text) == 1


def test_a_folder_says_which_files_it_cannot_read(library, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.md").write_text("# Notes\n\nListening well means asking before advising.\n")
    (docs / "letter.docx").write_bytes(b"PK\x03\x04 not really a document")
    report = ingest(library, [docs], progress=False)
    assert report.ok and report.files_added == [str(docs / "notes.md")]
    assert report.files_unsupported == [str(docs / "letter.docx")]


@pytest.mark.slow  # a second process or a long computation
def test_another_process_forgetting_a_document_is_seen_by_a_running_library(library, tmp_path):
    import subprocess
    import sys

    from knowledge.retrieve import HybridRetriever

    mine, secret = tmp_path / "mine.md", tmp_path / "secret.md"
    mine.write_text("# Mine\n\nLonely evenings with my partner: we talk about feelings after dinner.\n")
    secret.write_text("# Secret\n\nLonely evenings with my partner hide a secret document about feelings.\n")
    ingest(library, [mine, secret], progress=False)
    retriever = HybridRetriever(library, top_k=4, min_relevance=0.0)
    assert len(retriever.retrieve("lonely evenings partner feelings")) == 2
    script = (
        "import sys; sys.path.insert(0, 'tests'); from pathlib import Path; from conftest import HashingEmbeddings; "
        "from knowledge.library import Library; "
        f"print(Library(Path({str(library.path)!r}), HashingEmbeddings()).delete_source({str(secret.resolve())!r}))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "1"
    passages = retriever.retrieve("lonely evenings partner feelings")
    assert [p.source for p in passages] == [str(mine.resolve())] and all(p.text for p in passages)
    assert library.vectors([p.id for p in passages]).keys() == {p.id for p in passages}


def _files_holding(folder: Path, words: bytes) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and words in p.read_bytes()]


@pytest.mark.slow  # a second process or a long computation
def test_forget_leaves_no_trace_of_a_document_in_the_index_files(tmp_path, capsys, hashing_embedder, monkeypatch):
    from agent.cli import main
    from agent.settings import load_settings

    home = tmp_path / "home"
    monkeypatch.setenv("ATTUNE_HOME", str(home))
    secret = tmp_path / "secret.md"
    secret.write_text("# Secret\n\nThe zebra-quartz-791 code is in the drawer; we talk about it on Sundays.\n")
    assert main(["ingest"]) == 0 and main(["ingest", str(secret)]) == 0
    chroma = load_settings().chroma_path
    assert _files_holding(chroma, b"zebra-quartz-791")
    bundled = Library(chroma, library_embeddings()).count() - 1
    assert main(["forget", "--documents", "--yes"]) == 0
    assert _files_holding(chroma, b"zebra-quartz-791") == []
    assert Library(chroma, library_embeddings()).count() == bundled  # the bundled articles stay, searchable
    capsys.readouterr()


def library_embeddings():  # the hashing embedder, as the patched runtime uses
    from conftest import HashingEmbeddings

    return HashingEmbeddings()
