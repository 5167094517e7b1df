"""results.json: everything one run produced, and the one contract between training and reports."""

import json
import math
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from omegaconf import DictConfig, OmegaConf

FILENAME = "results.json"


def atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> Path:
    """Calls `write(file)` on a temporary file beside `path`, then renames it to `path`: readers,
    other processes included, see the whole file or none, never half of it."""
    temporary = path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.tmp"
    # Permissions as the umask gives any new file (tempfile's are private to the owner, which
    # would hide the run's results from the rest of a group on a shared cluster).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)  # Windows: no \r\n
    descriptor = os.open(temporary, flags, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
        os.replace(temporary, path)
    except BaseException as error:
        os.unlink(temporary)
        if isinstance(error, OSError) and error.filename is None:
            error.filename = str(path)  # a write's error names no file
        raise
    return path


def undefined_as_null(value):
    """`value` with every NaN or infinite float, at any depth, as None: JSON has no NaN, and a
    metric that is undefined (a class without test images has no recall) is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: undefined_as_null(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [undefined_as_null(item) for item in value]
    return value


def run_config(cfg: DictConfig) -> dict:
    """The resolved config, as results.json holds it (and reads back from JSON): without
    `rerun`, which says how this command treats the run's directory, and the remedy's `grid`,
    which says what `imbalance.tune` tries: neither is what the run is."""
    config = OmegaConf.to_container(cfg, resolve=True)
    del config["rerun"]
    config["remedy"].pop("grid", None)
    return json.loads(json.dumps(undefined_as_null(config)))


def write_results(run_dir: str | Path, results: dict) -> Path:
    """Writes `run_dir/results.json` atomically, undefined numbers as null."""
    text = json.dumps(undefined_as_null(results), indent=2, allow_nan=False).encode()
    return atomic_write(Path(run_dir) / FILENAME, lambda file: file.write(text))


def read_results(run_dir: str | Path) -> dict:
    return json.loads((Path(run_dir) / FILENAME).read_text())


def untested_classes(results: dict) -> list[str]:
    """The classes the run had no test image of (their recall is undefined)."""
    return [name for name, count in results["counts"]["test"].items() if count == 0]


def groups(results: dict) -> dict[str, list[str]]:
    """Group name -> class names, as the run's metrics grouped its classes; a results.json from
    before groups were recorded had step imbalance's two, from its `minority` list."""
    if "groups" in results:
        return results["groups"]
    minority = set(results["minority"])
    return {
        "minority": list(results["minority"]),
        "majority": [name for name in results["classes"] if name not in minority],
    }


def test_metric(results: dict, name: str) -> float:
    """A final test metric by name, NaN where the run did not compute it or it is undefined.

    A results.json written before imbalance/metrics.py (2026-11-29) has neither `macro_f1` nor
    the group recalls: they are derived from its per-class precision and recall, as the report
    then computed them (a class with precision and recall 0 has F1 0).
    """
    test = results["test"]
    if name in test:
        return float("nan") if test[name] is None else test[name]  # null: undefined
    precision, recall = test.get("precision", {}), test.get("recall", {})
    if name == "macro_f1" and precision:
        pairs = [(precision[c], recall[c]) for c in results["classes"]]
        return sum(2 * p * r / (p + r) if p + r else 0.0 for p, r in pairs) / len(pairs)
    untested = set(untested_classes(results))
    for group, members in groups(results).items():
        tested = [c for c in members if c not in untested]
        if name == f"{group}_recall" and recall and tested:
            return sum(recall[c] for c in tested) / len(tested)
    return float("nan")


# Settings of how a command treats a run's directory, not of what the run is: left out of the
# comparison with an earlier run, of job names (conf/train.yaml's exclude_keys) and of reports.
COMMAND_KEYS = ("rerun", "checkpoint_every_s")


def diverged(stopped: dict) -> str:
    """How a run whose training loss stopped being finite ended, from its results.json's
    `diverged` ({"epoch", "step", "loss"}): what the run's error line and the report say."""
    return (
        f"diverged: the training loss is {stopped['loss']} at epoch {stopped['epoch']}, "
        f"step {stopped['step']}"
    )
