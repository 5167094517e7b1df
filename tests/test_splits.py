"""python -m imbalance.splits: the splits a config makes, which its run then trains on; and a
natural long tail from a folder, end to end through a remedies sweep and its report."""

import csv
import json
import re

import pytest

from helpers import file_lists, make_image_tree, run_main
from imbalance.report.__main__ import main as report
from imbalance.splits import main as splits

# 150, 40, 12 and 5 images: 30% of each tested (45, 12, 4, 2), so 105 training images of a
# (many-shot: more than 100), 28 of b (medium: 20 to 100), 8 of c and 3 of d (few: under 20).
IMAGES = {"a": 150, "b": 40, "c": 12, "d": 5}
TRAIN = {"a": 105, "b": 28, "c": 8, "d": 3}
TEST = {"a": 45, "b": 12, "c": 4, "d": 2}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_image_tree(tmp_path_factory.mktemp("natural") / "images", IMAGES)


def printed_counts(out: str) -> dict:
    """{class: (group, train, val, test)} from the printed table."""
    rows = re.findall(r"^\| (\w) \| (\w+) \| (\d+) \| (\d+) \| (\d+) \|$", out, flags=re.M)
    return {name: (group, *map(int, counts)) for name, group, *counts in rows}


def test_the_splits_printed_are_those_the_run_trains_on(folder, tmp_path, capsys):
    common = ["data=folder", f"data.root={folder}", "profile=natural", "data.image_size=16"]
    manifest = tmp_path / "manifest.json"
    assert splits([*common, "--out", str(manifest)]) == 0
    out = capsys.readouterr().out
    assert printed_counts(out) == {
        "a": ("many", 105, 0, 45),
        "b": ("medium", 28, 0, 12),
        "c": ("few", 8, 0, 4),
        "d": ("few", 3, 0, 2),
    }
    assert "imbalance 35:1 (largest training class over the smallest)" in out
    assert "batch 10, rate 0.01 (data.batch_size=auto)" in out  # 144 training images
    printed_hash = re.search(r"splits sha256 (\w+)", out).group(1)

    sweep = tmp_path / "sweep"
    args = ["-m", *common, "remedy=none,oversample", "trainer.max_epochs=1"]
    result = run_main(*args, f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    for remedy in ("none", "oversample"):
        results = json.loads((sweep / f"remedy={remedy}" / "results.json").read_text())
        assert results["counts"]["train"] == TRAIN and results["counts"]["test"] == TEST
        assert results["groups"] == {"many": ["a"], "medium": ["b"], "few": ["c", "d"]}
        assert results["imbalance"] == 35
        assert results["splits_hash"] == printed_hash
        assert results["effective"]["data.batch_size"] == 10
        assert {"many_recall", "medium_recall", "few_recall"} <= set(results["test"])
    written = json.loads(manifest.read_text())
    assert written["splits"] == results["splits"]  # what data.manifest= trains on

    assert report([str(sweep), "--baseline", "remedy=none"]) == 0
    with open(sweep / "summary.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    # The ratio of a natural run is the data's own.
    assert [(row["ratio"], row["remedy"]) for row in rows] == [
        ("35.0", "none"), ("35.0", "oversample")
    ]  # fmt: skip
    assert {"many_recall_mean", "medium_recall_mean", "few_recall_mean"} <= set(rows[0])
    assert "few recall" in (sweep / "paired.md").read_text()


def test_a_class_too_small_for_a_balanced_test_set_is_named_with_its_count(folder, capsys):
    args = ["data=folder", f"data.root={folder}", "profile=natural", "data.test=balanced"]
    assert splits([*args, "data.test_per_class=5"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: class 'd' has 5 images but data.test=balanced takes 5")
    assert splits([*args, "data.test_per_class=4", "data.max_per_class=30"]) == 0
    counts = printed_counts(capsys.readouterr().out)
    assert {name: c[1:] for name, c in counts.items()} == {
        "a": (30, 0, 4), "b": (30, 0, 4), "c": (8, 0, 4), "d": (1, 0, 4)
    }  # fmt: skip


def test_bad_input_is_one_line(capsys):
    assert splits(["remedy=magic"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: remedy=magic is none of remedy's options (cb_focal, ")
    assert len(error.strip().splitlines()) == 1 and "Config search path" not in error
    assert splits(["profile=natural", "ratio=3"]) == 2
    assert "profile=natural trains on every image" in capsys.readouterr().err


def test_the_batch_and_rate_printed_are_those_of_the_run(folder, capsys):
    common = ["data=folder", f"data.root={folder}", "profile=natural", "data.batch_size=64"]
    assert splits(common) == 0
    assert "batch 64, rate 0.064 (optim.lr=0.01 at optim.base_batch=10)" in capsys.readouterr().out


def test_a_run_on_file_lists_trains_on_their_splits(tmp_path):
    root, files = file_lists(tmp_path, {"ant": 12, "bee": 6, "cat": 4})
    lists = [f"data.source.{split}={files[split]}" for split in ("train", "test", "class_names")]
    common = ["data=filelist", f"data.root={root}", *lists, "data.image_size=16"]
    refused = run_main(*common, "trainer.max_epochs=1", cwd=tmp_path)
    assert refused.returncode == 2
    assert "data.per_class is not set" in refused.stderr and "add profile=natural" in refused.stderr

    run = tmp_path / "run"
    args = [*common, "profile=natural", "data.val_fraction=0.25", "trainer.max_epochs=1"]
    result = run_main(*args, f"hydra.run.dir={run}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((run / "results.json").read_text())
    # The test list as it is; a quarter of each class's training list (half up) validates.
    assert results["counts"]["test"] == {"ant": 2, "bee": 2, "cat": 2}
    assert results["counts"]["val"] == {"ant": 3, "bee": 1, "cat": 1}
    assert results["counts"]["train"] == {"ant": 7, "bee": 3, "cat": 1}
    assert results["groups"] == {"few": ["ant", "bee", "cat"]}  # under 20 training images each
    assert sorted(results["splits"]["test"]["ant"]) == ["ant/image_0001.jpg", "ant/image_0002.jpg"]


def test_a_folder_without_few_shot_classes_gets_groups_by_thirds(tmp_path, capsys, caplog):
    # 5 test images each, the rest train: f 35, a 25, b 20, c 19, d 17, e 16 training images.
    root = make_image_tree(tmp_path / "images", {"a": 30, "b": 25, "c": 24, "d": 22, "e": 21,
                                                  "f": 40})  # fmt: skip
    common = ["data=folder", f"data.root={root}", "profile=natural", "data.image_size=16",
              "data.test=balanced", "data.test_per_class=5"]  # fmt: skip
    assert splits(common) == 0
    groups = {name: row[0] for name, row in printed_counts(capsys.readouterr().out).items()}
    # The field's thresholds: nothing above 100, so no many-shot class; the log says so.
    assert set(groups.values()) == {"medium", "few"}
    assert "data.shot_groups=thirds groups the classes by thirds" in caplog.text
    assert splits([*common, "data.shot_groups=thirds"]) == 0
    groups = {name: row[0] for name, row in printed_counts(capsys.readouterr().out).items()}
    # Six classes: the two largest many-shot, the two smallest few-shot.
    assert groups == {"f": "many", "a": "many", "b": "medium", "c": "medium", "d": "few",
                      "e": "few"}  # fmt: skip
    assert splits([*common, "data.shot_groups=quartiles"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: data.shot_groups=quartiles is not one of thresholds, thirds"
    )
