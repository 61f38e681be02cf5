"""The bundled GGUF embedder: sentence-transformers' vectors without torch, cut and batched the same way."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.embeddings import EmbedderNotFound, bundled_embedder_path, make_embeddings, reference_cosine


def test_a_missing_embedder_file_is_one_clear_error(tmp_path: Path):
    with pytest.raises(EmbedderNotFound, match="GGUF file"):
        make_embeddings(tmp_path / "no-such.gguf")


def test_the_bundled_file_is_packaged_with_its_reference_vectors():
    path = bundled_embedder_path()
    assert path.is_file() and path.stat().st_size > 40 * 2**20
    assert (path.parent / "reference.npz").is_file()


@pytest.fixture(scope="module")
def embedder():
    return make_embeddings()


@pytest.mark.integration
def test_vectors_match_sentence_transformers_on_the_stored_reference(embedder):
    assert reference_cosine(embedder) >= 0.999


@pytest.mark.integration
def test_a_long_text_is_cut_at_256_word_pieces_like_sentence_transformers(embedder):
    words = " ".join(f"word{i % 50}" for i in range(400))  # far past 256 word pieces
    a, b = np.asarray(embedder.embed_documents([words, words + " and then a different ending entirely"]))
    assert float(a @ b) > 0.99999  # the extra words fall past the cut
    short = np.asarray(embedder.embed_query(" ".join(words.split()[:40])))
    assert float(a @ short) < 0.999  # but the cut is not shorter than it should be


@pytest.mark.integration
def test_an_overlong_word_reads_as_unknown_like_bert(embedder):
    a, b = np.asarray(embedder.embed_documents(["a" * 150, "[UNK]"]))
    assert float(a @ b) > 0.99999


@pytest.mark.integration
def test_batching_keeps_each_text_its_own_vector_in_the_callers_order(embedder):
    texts = ["I feel torn about the holidays.", "ok", "word " * 300, "We keep arguing about money and chores."]
    together = np.asarray(embedder.embed_documents(texts))
    alone = np.asarray([embedder.embed_query(t) for t in texts])
    assert np.allclose(together, alone, atol=1e-4)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert embedder.embed_documents([]) == []
