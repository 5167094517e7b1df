import json
import math

from imbalance.results import read_results, write_results


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
