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


def groups(results: dict) -> dict[str, list[str]]:
    """Group name -> class names, as the run's metrics grouped its classes; a results.json from
    before groups were recorded had step imbalance's two, from its `minority` list."""
    if "groups" in results:
        return results["groups"]
    minority = set(results["minority"])
    return {
        "majority": [name for name in results["classes"] if name not in minority],
        "minority": list(results["minority"]),
    }
