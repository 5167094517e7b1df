"""results.json: everything one run produced, and the one contract between training and reports."""

import json
import os
import tempfile
from pathlib import Path

FILENAME = "results.json"


def write_results(run_dir: str | Path, results: dict) -> Path:
    """Write `run_dir/results.json` atomically: readers see the whole file or none."""
    path = Path(run_dir) / FILENAME
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".results-", suffix=".json")
    try:
        with os.fdopen(descriptor, "w") as file:
            json.dump(results, file, indent=2)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return path


def read_results(run_dir: str | Path) -> dict:
    return json.loads((Path(run_dir) / FILENAME).read_text())
