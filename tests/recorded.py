"""Runs recorded before a change of the code (tests/data/reference_*.json), which later runs of
the same config must give again: replayed by tests/test_train.py, recorded by this script.

A recorded run is a float64 run (trainer.precision=64-true) on one thread. In float32, CPUs
give other numbers for the same config and seed (their vector widths and libraries sum in
other orders, and a few epochs turn a last-bit difference into other predictions); in float64
those differences stay far below what a stored number, a float32, can show.

    .venv/bin/python tests/recorded.py tests/data/reference_run.json "on commit abc1234, before ..."
"""

import json
import math
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from helpers import run_main  # noqa: E402

# A stored number is a float32: a float64 run on another CPU may round to its neighbour.
REL = 1e-6


def replay(overrides: list[str], cwd: Path) -> dict:
    """results.json of the run `overrides` describe, on one thread of the CPU."""
    if "trainer.precision=64-true" not in overrides:
        raise ValueError("a recorded run is a float64 run: add trainer.precision=64-true")
    run_dir = cwd / "run"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        args = [*overrides, f"hydra.run.dir={run_dir}", "trainer.accelerator=cpu"]
        result = run_main(*args, cwd=cwd)
    finally:
        torch.set_num_threads(threads)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    results = json.loads((run_dir / "results.json").read_text())
    assert results["timing"]["torch_threads"] == 1
    return results


def numbers(value, prefix: str = "") -> dict:
    """{"history.0.train_acc": 0.1, ...}: every number of a nested structure by its path."""
    if isinstance(value, dict):
        return {
            k: v for key, item in value.items() for k, v in numbers(item, f"{prefix}{key}.").items()
        }
    if isinstance(value, list):
        return {
            k: v for i, item in enumerate(value) for k, v in numbers(item, f"{prefix}{i}.").items()
        }
    return {prefix.rstrip("."): value}


def mismatches(recorded: dict, results: dict) -> list[str]:
    """Every number of the recorded history and test results that `results` does not give
    again (within REL), and every one it lacks or adds, as 'path: recorded -> now'."""
    expected = numbers({"history": recorded["history"], "test": recorded["test"]})
    actual = numbers({"history": results["history"], "test": results["test"]})
    found = []
    for key in sorted(expected.keys() | actual.keys()):
        was, now = expected.get(key, "(none)"), actual.get(key, "(none)")
        same = (
            math.isclose(was, now, rel_tol=REL)
            if isinstance(was, float) and isinstance(now, float)
            else was == now
        )
        if not same:
            found.append(f"{key}: {was} -> {now}")
    return found


def record(path: Path, recorded: str) -> None:
    """Replays the overrides of `path` and writes what they give into it, with `recorded`
    (on which commit, before which change) and the CPU and torch that ran it."""
    reference = json.loads(path.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        results = replay(reference["overrides"], Path(tmp))
    reference |= {
        "recorded": recorded,
        "cpu": results["provenance"]["device"]["name"],
        "torch": torch.__version__,
        "history": results["history"],
        "test": results["test"],
    }
    path.write_text(json.dumps(reference, indent=1) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: tests/recorded.py tests/data/reference_<name>.json '<when, before what>'")
    record(Path(sys.argv[1]), sys.argv[2])
