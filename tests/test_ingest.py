from pathlib import Path

from knowledge.ingest import BUNDLED_PREFIX, bundled_files, ingest
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
