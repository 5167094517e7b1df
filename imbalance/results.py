"""results.json: everything one run produced, and the one contract between training and reports."""

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

FILENAME = "results.json"


def atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> Path:
    """Calls `write(file)` on a temporary file beside `path`, then renames it to `path`: readers,
    other processes included, see the whole file or none, never half of it."""
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return path


def write_results(run_dir: str | Path, results: dict) -> Path:
    """Writes `run_dir/results.json` atomically."""
    text = json.dumps(results, indent=2).encode()
    return atomic_write(Path(run_dir) / FILENAME, lambda file: file.write(text))


def read_results(run_dir: str | Path) -> dict:
    return json.loads((Path(run_dir) / FILENAME).read_text())


def mean_recall(results: dict, minority: bool) -> float:
    """Mean final test recall over the minority classes (or, with minority=False, the majority)."""
    recall, chosen = results["test"]["recall"], set(results["minority"])
    names = [name for name in results["classes"] if (name in chosen) == minority]
    return sum(recall[name] for name in names) / len(names)


def macro_f1(results: dict) -> float:
    """Mean over classes of F1 = 2 TP / (2 TP + FP + FN), from the final confusion matrix."""
    matrix = results["test"]["confusion_matrix"]
    scores = []
    for c, row in enumerate(matrix):
        true_positives = row[c]
        actual, predicted = sum(row), sum(other[c] for other in matrix)
        scores.append(2 * true_positives / (actual + predicted) if actual + predicted else 0.0)
    return sum(scores) / len(scores)
