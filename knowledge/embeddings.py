"""The embedding model: all-MiniLM-L6-v2 as a GGUF file shipped with Attune, run by llama.cpp without torch.

The file is built once from the sentence-transformers weights (`knowledge/embedder_build.py`); its vectors
match sentence-transformers' to a cosine of at least 0.999 (checked against stored reference vectors).
"""

from __future__ import annotations

import os
import re
import threading
from importlib.resources import files
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

BUNDLED_EMBEDDER_FILE = "all-MiniLM-L6-v2.f16.gguf"
# sentence-transformers cuts a text at 256 word pieces, keeping [CLS] and [SEP]; the same cut is made here.
MAX_TOKENS = 256
# Non-causal attention needs a whole batch in one micro-batch, and its cost grows with the square of the batch:
# 256 tokens (one longest text, or many short ones) was fastest here (7.1 s for 324 texts; 512: 8.5 s).
BATCH_TOKENS = MAX_TOKENS
# BERT's WordPiece reads a word of more than 100 characters as one [UNK]; llama.cpp's splits it into pieces.
_OVERLONG_WORD = re.compile(r"[^\W_]{101,}")




class EmbedderNotFound(Exception):
    pass


def bundled_embedder_path() -> Path:
    return Path(str(files("knowledge") / "embedder" / BUNDLED_EMBEDDER_FILE))


# Unit tests set it to False: loading the real embedder then fails at once, whoever asked for it.
ALLOW_REAL_EMBEDDER = True


class GgufEmbeddings(Embeddings):
    """Mean-pooled, unit-length sentence vectors from a BERT-family GGUF file."""

    def __init__(self, path: Path, *, n_threads: int | None = None) -> None:
        from llama_cpp import Llama

        self._llama = Llama(
            model_path=str(path),
            embedding=True,
            n_ctx=BATCH_TOKENS,
            n_batch=BATCH_TOKENS,
            n_ubatch=BATCH_TOKENS,
            n_threads=n_threads or os.cpu_count() or 1,
            verbose=False,
        )
        self.path = path
        self.dimension = self._llama.n_embd()
        self._lock = threading.Lock()  # one llama.cpp context: one batch at a time

    def _tokens(self, text: str) -> list[int]:
        # special=True: like Hugging Face's tokenizer, a literal "[SEP]" in the text is the special token.
        text = _OVERLONG_WORD.sub(" [UNK] ", text)
        tokens = self._llama.tokenize(text.encode("utf-8", "replace"), add_bos=True, special=True)
        if len(tokens) > MAX_TOKENS:
            tokens = tokens[: MAX_TOKENS - 1] + tokens[-1:]
        return tokens

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """One unit-length row per text."""
        import llama_cpp

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        sequences = [self._tokens(t) for t in texts]
        # Packed shortest first, so batches fill up; rows go back to the caller's order.
        order = sorted(range(len(texts)), key=lambda i: len(sequences[i]))
        # Llama.embed cuts a long text at the batch size, dropping [SEP]; so its batching is done here, on
        # llama-cpp-python's batch and context objects (pinned <0.4; the reference-vector test guards them).
        llama = self._llama
        batch, context = llama._batch, llama._ctx
        limit = min(llama.n_batch, llama.context_params.n_seq_max)
        with self._lock:
            start = 0
            while start < len(sequences):
                used, members = 0, list[int]()
                while start + len(members) < len(order) and len(members) < limit:
                    tokens = sequences[order[start + len(members)]]
                    if members and used + len(tokens) > llama.n_batch:
                        break
                    batch.add_sequence(tokens, len(members), True)
                    used += len(tokens)
                    members.append(order[start + len(members)])
                context.kv_cache_clear()
                context.decode(batch)
                batch.reset()
                for seq, row in enumerate(members):
                    pointer = llama_cpp.llama_get_embeddings_seq(context.ctx, seq)
                    out[row] = np.ctypeslib.as_array(pointer, shape=(self.dimension,))
                start += len(members)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(list(texts)).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text])[0].tolist()  # type: ignore[no-any-return]


def make_embeddings(model_path: Path | None = None) -> Embeddings:
    path = model_path or bundled_embedder_path()
    if not path.is_file():
        raise EmbedderNotFound(f"no embedding model at {path} (retrieval.embedder must be a GGUF file)")
    if not ALLOW_REAL_EMBEDDER:
        raise AssertionError("the real embedder was about to load with ALLOW_REAL_EMBEDDER off (a unit test?)")
    return GgufEmbeddings(path)


def reference_cosine(embeddings: Embeddings) -> float:
    """The lowest cosine between this embedder's vectors and sentence-transformers' for the reference texts
    stored beside the bundled file: at least 0.999 means the rubric's and safety's models see the vectors they
    were trained on."""
    reference = np.load(str(files("knowledge") / "embedder" / "reference.npz"))
    texts = [str(t) for t in reference["texts"]]
    ours = np.asarray(embeddings.embed_documents(texts), dtype=np.float32)
    return float(np.min(np.sum(ours * reference["vectors"], axis=1)))
