"""python -m imbalance.predict: a run's network on new images, as at its test."""

import json
import shutil

import pytest
import torch

from helpers import TINY, make_image_tree, run_main
from imbalance.export import main as export_main
from imbalance.predict import main as predict
from imbalance.trained import TrainedRun

CLASSES = {"a": 12, "b": 12, "c": 12, "d": 12}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Finished runs on a folder of images: no remedy, thresholding by the priors (a correction
    of the logits) and tau-normalisation (a change of the classifier, hooked on its layer)."""
    tmp = tmp_path_factory.mktemp("predict")
    root = make_image_tree(tmp / "images", CLASSES)
    made = {}
    for remedy in ("none", "threshold", "tau_norm"):
        run_dir = tmp / remedy
        result = run_main(
            "data=folder", f"data.root={root}", "data.minority=[c,d]", "ratio=2", "reg=norm",
            f"remedy={remedy}", *TINY, f"hydra.run.dir={run_dir}", cwd=tmp,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        made[remedy] = run_dir
    return root, made


def copy_test_split(root, run_dir, into):
    """The run's test images, copied into a folder of class folders."""
    results = json.loads((run_dir / "results.json").read_text())
    for images in results["splits"]["test"].values():
        for image in images:
            (into / image).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(root / image, into / image)
    return results


@pytest.mark.parametrize("remedy", ["none", "threshold", "tau_norm"])
def test_predict_on_the_test_split_gives_the_runs_own_test_numbers(runs, remedy, tmp_path):
    root, made = runs
    results = copy_test_split(root, made[remedy], tmp_path / "test")
    out = tmp_path / "predictions.csv"
    assert predict([str(made[remedy]), str(tmp_path / "test"), "--evaluate", f"--out={out}"]) == 0
    evaluated = json.loads(out.with_suffix(".json").read_text())
    for name in ("acc", "balanced_acc", "macro_f1", "minority_recall", "majority_recall"):
        assert evaluated[name] == pytest.approx(results["test"][name], abs=1e-6), name
    assert evaluated["recall"] == pytest.approx(results["test"]["recall"], abs=1e-6)
    rows = out.read_text().splitlines()
    tested = sum(len(images) for images in results["splits"]["test"].values())
    assert rows[0] == "path,class,p_a,p_b,p_c,p_d" and len(rows) == 1 + tested


def test_predict_without_classes_writes_a_row_an_image(runs, tmp_path, capsys):
    root, made = runs
    assert predict([str(made["none"]), str(root / "a" / "image_0001.jpg"), str(root / "b")]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    assert len(rows) == 1 + 1 + CLASSES["b"]
    path, label, *probabilities = rows[1].split(",")
    assert path.endswith("image_0001.jpg") and label in CLASSES
    assert sum(map(float, probabilities)) == pytest.approx(1, abs=1e-5)


def test_a_directory_without_a_run_is_one_line(tmp_path, capsys):
    assert predict([str(tmp_path), str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"error: {tmp_path} holds no finished run (no results.json)")


@pytest.mark.parametrize("remedy", ["none", "threshold", "tau_norm"])
def test_the_exported_file_gives_the_frameworks_probabilities_with_torch_alone(
    runs, remedy, tmp_path
):
    root, made = runs
    assert export_main([str(made[remedy]), f"--out={tmp_path / 'model.pt2'}"]) == 0
    files = {"imbalance.json": ""}
    model = torch.export.load(tmp_path / "model.pt2", extra_files=files).module()
    run = TrainedRun.load(made[remedy])
    pixels = run.decode(sorted((root / "c").glob("*.jpg")))
    described = json.loads(files["imbalance.json"])
    assert described["classes"] == ["a", "b", "c", "d"] and described["image_size"] == 16
    assert torch.allclose(model(pixels), run.probabilities(pixels), atol=1e-6)
    assert model(pixels[:1]).shape == (1, 4)  # any number of images
