from knowledge.ingest import ingest
from knowledge.retrieve import HybridRetriever, reciprocal_rank_fusion, tokenize


def test_rrf_rewards_agreement():
    assert reciprocal_rank_fusion([["a", "b", "c"], ["b", "c", "a"]])[0] == "b"
    assert reciprocal_rank_fusion([["x"], []]) == ["x"]


def test_tokenize_drops_stopwords_and_stems():
    assert tokenize("How do I stop blaming my partner's habits?") == ["stop", "blam", "partner", "habit"]


def test_hybrid_retrieval_returns_titled_sectioned_passages(library):
    ingest(library, progress=False)
    passages = HybridRetriever(library, top_k=3, min_relevance=0.1).retrieve("avoid blaming your partner")
    assert 1 <= len(passages) <= 3
    top = passages[0]
    assert top.title and top.section and top.text
    assert "blam" in " ".join(p.text.lower() for p in passages)
    assert all(p.relevance >= 0.1 for p in passages)


def test_nothing_relevant_gives_no_passages(library):
    ingest(library, progress=False)
    assert HybridRetriever(library, min_relevance=0.3).retrieve("quantum chromodynamics lattice gauge") == []


def test_keyword_index_follows_changes_that_keep_the_count(library, tmp_path):
    doc = tmp_path / "a.md"
    doc.write_text("# A\n\nGratitude rituals bring couples closer every single week.\n")
    ingest(library, [doc], progress=False)
    retriever = HybridRetriever(library, min_relevance=-1.0)
    assert "gratitude" in retriever.keyword_ranking("gratitude rituals")[0].text.lower()
    doc.write_text("# A\n\nApologies work best without excuses attached to them.\n")
    ingest(library, [doc], progress=False)
    assert library.count() == 1
    assert "apologies" in retriever.keyword_ranking("apologies excuses")[0].text.lower()


def test_the_keyword_index_is_saved_beside_the_library_and_loaded_by_the_next_reader(library, tmp_path, monkeypatch):
    import knowledge.retrieve as retrieve

    doc = tmp_path / "a.md"
    doc.write_text("# A\n\nGratitude rituals bring couples closer every single week.\n")
    ingest(library, [doc], progress=False)
    first = HybridRetriever(library, min_relevance=-1.0).keyword_ranking("gratitude")
    saved = [p.name for p in (library.path / "keywords").iterdir()]
    assert saved == [library.content_token()]

    def no_rebuild(chunks):
        raise AssertionError("rebuilt although a saved index matched the library")

    monkeypatch.setattr(retrieve, "build_keyword_index", no_rebuild)
    again = HybridRetriever(library, min_relevance=-1.0).keyword_ranking("gratitude")
    assert [c.id for c in again] == [c.id for c in first] and "Gratitude" in again[0].text


def test_a_saved_keyword_index_is_not_used_once_the_library_changes(library, tmp_path):
    doc = tmp_path / "a.md"
    doc.write_text("# A\n\nGratitude rituals bring couples closer every single week.\n")
    ingest(library, [doc], progress=False)
    HybridRetriever(library, min_relevance=-1.0).keyword_ranking("gratitude")
    doc.write_text("# A\n\nApologies work best without excuses attached to them.\n")
    ingest(library, [doc], progress=False)
    fresh = HybridRetriever(library, min_relevance=-1.0)
    assert fresh.keyword_ranking("gratitude") == []
    assert "Apologies" in fresh.keyword_ranking("apologies")[0].text
    assert [p.name for p in (library.path / "keywords").iterdir()] == [library.content_token()]  # old one gone
