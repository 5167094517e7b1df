import json
import math
import os
import stat

import pytest

from imbalance.run.results import read_results, write_results


def test_undefined_numbers_are_written_as_null_and_the_file_is_valid_json(tmp_path):
    results = {"test": {"recall": {"a": 1.0, "b": math.nan}, "auroc": math.inf}, "n": [math.nan]}
    path = write_results(tmp_path, results)
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {
        "test": {"recall": {"a": 1.0, "b": None}, "auroc": None},
        "n": [None],
    }
    assert read_results(tmp_path)["test"]["recall"]["b"] is None
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no temporary file left


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_results_and_checkpoints_are_readable_as_the_umask_allows(tmp_path, umask):
    from imbalance.run.resume import AtomicCheckpointIO

    previous = os.umask(umask)
    try:
        written = [
            write_results(tmp_path, {"test": {}}),
            tmp_path / "checkpoints" / "last.ckpt",
        ]
        AtomicCheckpointIO().save_checkpoint({"epoch": 1}, written[1])
    finally:
        os.umask(previous)
    assert [stat.S_IMODE(path.stat().st_mode) for path in written] == [0o666 & ~umask] * 2
    files = sorted(path.name for path in tmp_path.rglob("*") if path.is_file())
    assert files == ["last.ckpt", "results.json"]  # no temporary file left
