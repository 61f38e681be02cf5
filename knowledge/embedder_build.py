"""Build step, run by maintainers: convert a sentence-transformers BERT model (all-MiniLM-L6-v2) to a GGUF file.

llama.cpp then runs the same weights without torch. Needs `pip install -e ".[build-embedder]"`; see models/README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

# Types llama.cpp's BERT graph reads by row lookup (get_rows) or adds as vectors stay float32; the large
# matrices may be stored smaller.
_KEEP_F32 = ("token_types.weight", "position_embd.weight")
FORMATS = ("f32", "f16", "q8_0")


def _pooling_type(source: Path) -> object:
    import gguf

    modules = json.loads((source / "modules.json").read_text(encoding="utf-8"))
    pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
    pooling = json.loads((source / pooling_dir / "config.json").read_text(encoding="utf-8"))
    if pooling.get("pooling_mode_mean_tokens"):
        return gguf.PoolingType.MEAN
    if pooling.get("pooling_mode_cls_token"):
        return gguf.PoolingType.CLS
    raise ValueError(f"{source}: only mean or CLS pooling can be converted")


def _vocabulary(source: Path) -> tuple[list[str], list[int]]:
    """Tokens in llama.cpp's WordPiece form: a word start carries "▁", a continuation loses its "##"."""
    import gguf

    tokenizer = json.loads((source / "tokenizer.json").read_text(encoding="utf-8"))
    vocab: dict[str, int] = tokenizer["model"]["vocab"]
    special = {t["content"] for t in tokenizer.get("added_tokens", []) if t.get("special")}
    by_id = sorted(vocab.items(), key=lambda item: item[1])
    if [i for _, i in by_id] != list(range(len(by_id))):
        raise ValueError(f"{source}: token ids are not contiguous")
    tokens, types = [], []
    for token, _ in by_id:
        if token in special:
            tokens.append(token)
            types.append(int(gguf.TokenType.CONTROL))
        else:
            tokens.append(token[2:] if token.startswith("##") else "\u2581" + token)
            types.append(int(gguf.TokenType.NORMAL))
    return tokens, types


def convert(source: Path, target: Path, fmt: str = "f16") -> Path:
    """Write `target` from the model folder `source` (config.json, tokenizer.json, model.safetensors)."""
    import gguf
    from safetensors.numpy import load_file

    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") != "bert":
        raise ValueError(f"{source}: only BERT models convert here (model_type is {config.get('model_type')!r})")
    layers = int(config["num_hidden_layers"])
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.BERT, layers)

    writer = gguf.GGUFWriter(str(target), gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.BERT])
    writer.add_name(source.parent.name if source.name == "model" else source.name)
    writer.add_block_count(layers)
    writer.add_context_length(int(config["max_position_embeddings"]))
    writer.add_embedding_length(int(config["hidden_size"]))
    writer.add_feed_forward_length(int(config["intermediate_size"]))
    writer.add_head_count(int(config["num_attention_heads"]))
    writer.add_layer_norm_eps(float(config["layer_norm_eps"]))
    writer.add_causal_attention(False)
    writer.add_pooling_type(_pooling_type(source))  # type: ignore[arg-type]
    file_type = {"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
                 "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0}[fmt]
    writer.add_file_type(file_type)

    tokens, types = _vocabulary(source)
    writer.add_token_type_count(int(config.get("type_vocab_size", 1)))
    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    gguf.SpecialVocab(source, n_vocab=len(tokens)).add_to_gguf(writer, quiet=True)

    weights = load_file(str(source / "model.safetensors"))
    for name in sorted(weights):
        short = name.removeprefix("bert.")
        if short in ("embeddings.position_ids",) or short.startswith(("pooler.", "cls.")):
            continue
        new_name = names.get_name(short, try_suffixes=(".weight", ".bias"))
        if new_name is None:
            raise ValueError(f"{source}: no GGUF name for tensor {name}")
        data = weights[name].astype(np.float32)
        matrix = data.ndim == 2 and new_name.endswith(".weight") and new_name not in _KEEP_F32
        if matrix and fmt == "f16":
            writer.add_tensor(new_name, data.astype(np.float16))
        elif matrix and fmt == "q8_0":
            q8 = gguf.GGMLQuantizationType.Q8_0
            writer.add_tensor(new_name, gguf.quants.quantize(data, q8), raw_dtype=q8)
        else:
            writer.add_tensor(new_name, data)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge.embedder_build", description=__doc__)
    parser.add_argument("source", type=Path, help="the sentence-transformers model folder")
    parser.add_argument("target", type=Path, help="the GGUF file to write")
    parser.add_argument("--format", choices=FORMATS, default="f16")
    args = parser.parse_args(argv)
    if not (args.source / "model.safetensors").is_file():
        print(f"error: no model.safetensors in {args.source}", file=sys.stderr)
        return 2
    out = convert(args.source, args.target, args.format)
    print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
