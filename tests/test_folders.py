"""Folders of images as users have them: laid out by split (train/, test/, val/), with links,
byte-order marks and decomposed names; one image is one image, every class has images."""

import json
import logging
import os
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from helpers import TINY, file_lists, make_image_tree, run_main
from imbalance.data.datamodule import ImbalancedDataModule
from imbalance.data.sources import CIFAR10, CIFAR100, FileLists, ImageFolder
from imbalance.errors import ConfigError


def split_tree(root: Path, splits: dict[str, dict[str, int]]) -> Path:
    for split, counts in splits.items():
        make_image_tree(root / split, counts)
    return root


def folder(root: Path, **kwargs) -> ImbalancedDataModule:
    settings = {"per_class": 8, "image_size": 8, "profile": "long_tail", "ratio": 4} | kwargs
    return ImbalancedDataModule(ImageFolder(), root=str(root), **settings)


def counts(data: ImbalancedDataModule) -> dict[str, dict[str, int]]:
    return {split: {c: len(ids) for c, ids in data.splits[split].items()} for split in data.splits}


def test_a_folder_with_its_splits_tests_on_test_whole_and_draws_training_from_train(tmp_path):
    root = split_tree(
        tmp_path, {"train": {"a": 12, "b": 9, "c": 5}, "test": {"a": 3, "b": 2, "c": 4}}
    )
    data = folder(root)
    data.select()
    # long_tail at 4:1 over 3 classes, the largest at 8: int(8 x (1/4)^(c/2)) = 8, 4, 2.
    assert counts(data) == {
        "train": {"a": 8, "b": 4, "c": 2},
        "val": {"a": 0, "b": 0, "c": 0},
        "test": {"a": 3, "b": 2, "c": 4},
    }
    assert all(i.startswith("train/") for ids in data.splits["train"].values() for i in ids)
    assert sorted(data.splits["test"]["b"]) == ["test/b/image_0001.jpg", "test/b/image_0002.jpg"]

    natural = folder(root, profile="natural", val_fraction=0.25)
    natural.select()  # train/ as it is, a quarter of each class validating
    assert counts(natural)["train"] == {"a": 9, "b": 7, "c": 4}
    assert counts(natural)["val"] == {"a": 3, "b": 2, "c": 1}
    assert counts(natural)["test"] == {"a": 3, "b": 2, "c": 4}


def test_a_val_folder_is_the_validation_split(tmp_path):
    root = split_tree(
        tmp_path,
        {"train": {"a": 8, "b": 8}, "val": {"a": 2, "b": 1}, "test": {"a": 1, "b": 1}},
    )
    data = folder(root, profile="step", minority=["b"], ratio=2, per_class=6)
    data.select()
    # step at 2:1 keeps the 12 images of 6 a class at 1:1: a 8, b 4; val/ and test/ whole.
    assert counts(data) == {
        "train": {"a": 8, "b": 4}, "val": {"a": 2, "b": 1}, "test": {"a": 1, "b": 1}
    }  # fmt: skip
    with pytest.raises(ConfigError, match="data.val_fraction=0.2 would draw a validation split"):
        folder(root, profile="natural", val_fraction=0.2).select()


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ({"train": {"a": 2, "b": 2}, "test": {"a": 1}},
         "class 'b' has a folder in train/ but not in test/ under"),
        ({"train": {"a": 2, "b": 2}, "val": {"a": 1, "b": 1}},
         "holds train/ and val/ but no test/: a folder that comes with its splits"),
        ({"val": {"a": 2}}, "holds val/ but no train/"),
    ],
)  # fmt: skip
def test_a_folder_half_laid_out_by_split_is_refused_in_one_line(tmp_path, layout, message):
    root = split_tree(tmp_path, layout)
    with pytest.raises(ConfigError, match=message) as refused:
        ImageFolder().catalog(str(root), None)
    assert "\n" not in str(refused.value)


def test_class_folders_named_like_splits_beside_others_are_classes(tmp_path):
    root = make_image_tree(tmp_path / "images", {"train": 2, "test": 2, "tulip": 2})  # CIFAR-100
    catalog = ImageFolder().catalog(str(root), None)
    assert catalog.class_names == ["test", "train", "tulip"] and catalog.splits is None


def test_one_image_in_two_splits_is_refused_naming_both(tmp_path):
    root = split_tree(tmp_path, {"train": {"a": 2, "b": 2}, "test": {"a": 1, "b": 1}})
    (root / "test" / "b" / "image_0001.jpg").unlink()
    os.symlink(root / "train" / "b" / "image_0002.jpg", root / "test" / "b" / "image_0001.jpg")
    with pytest.raises(ConfigError) as refused:
        ImageFolder().catalog(str(root), None)
    assert str(refused.value) == (
        f"'{root}/train/b/image_0002.jpg' and '{root}/test/b/image_0001.jpg' are one file: one "
        "image in two splits (train and test); keep it in one"
    )


@pytest.fixture(scope="module", params=[(CIFAR10, 10, 5000, 1000), (CIFAR100, 100, 500, 100)])
def cifar_files(request, tmp_path_factory):
    """A copy of CIFAR laid out by split as the PNG copies are, with empty files: listing and
    drawing decode nothing."""
    source, classes, train, test = request.param
    root = tmp_path_factory.mktemp("cifar")
    for split, count in (("train", train), ("test", test)):
        for c in range(classes):
            class_folder = root / split / f"class{c:03d}"
            class_folder.mkdir(parents=True)
            for i in range(count):
                (class_folder / f"{i}.png").touch()
    return source, root


FIELD = {
    "CIFAR10": {100: 12406, 50: 13996, 10: 20431},
    "CIFAR100": {100: 10847, 50: 12608, 10: 19573},
}


@pytest.mark.parametrize("ratio", [100, 50, 10])
def test_a_cifar_shaped_folder_gives_the_fields_counts(cifar_files, ratio):
    source, root = cifar_files
    classes = 10 if source is CIFAR10 else 100
    data = ImbalancedDataModule(
        source(), root=str(root), per_class=5000 if classes == 10 else 500, image_size=32,
        profile="long_tail", ratio=ratio,
    )  # fmt: skip
    data.select()
    train = counts(data)["train"]
    assert sum(train.values()) == FIELD[source.__name__][ratio]
    assert list(train) == [f"class{c:03d}" for c in range(classes)]  # sorted: CIFAR's order
    largest = 5000 if classes == 10 else 500
    assert train["class000"] == largest and train[f"class{classes - 1:03d}"] == largest // ratio
    assert sum(counts(data)["test"].values()) == 10000  # the test split whole


def test_a_folder_of_another_class_count_is_not_cifar(tmp_path):
    root = split_tree(tmp_path, {"train": {"a": 2, "b": 2}, "test": {"a": 1, "b": 1}})
    with pytest.raises(
        ConfigError, match="holds 2 class folders in each split, and CIFAR-10 has 10"
    ):
        CIFAR10().catalog(str(root), None)


def test_a_file_list_spelling_a_path_otherwise_is_still_one_image(tmp_path):
    root, files = file_lists(tmp_path, {"cat": 4, "dog": 4})
    files["test"].write_text(files["test"].read_text() + "./cat/image_0003.jpg 0\n")
    source = FileLists(str(files["train"]), str(files["test"]))
    with pytest.raises(ConfigError) as refused:
        source.catalog(str(root), None)
    assert (
        "cat/image_0003.jpg and ./cat/image_0003.jpg, one file, listed in train and in test "
        f"({files['train']} line 1 and {files['test']} line 5): one image in two splits"
    ) in str(refused.value)


def test_a_byte_order_mark_is_not_part_of_a_list(tmp_path):
    root, files = file_lists(tmp_path, {"cat": 4, "dog": 4})
    for name in ("train", "test", "class_names"):
        files[name].write_text("\ufeff" + files[name].read_text(), encoding="utf-8")
    catalog = FileLists(str(files["train"]), str(files["test"]), None, str(files["class_names"]))
    catalog = catalog.catalog(str(root), None)
    assert catalog.class_names == ["cat", "dog"]
    assert len(catalog.splits["train"]) == 4 and len(catalog.splits["test"]) == 4


def test_a_folder_linked_into_itself_is_read_once_and_said(tmp_path, caplog):
    root = make_image_tree(tmp_path / "images", {"a": 4, "b": 3})
    os.symlink(".", root / "a" / "self")
    os.symlink(root / "a" / "image_0001.jpg", root / "a" / "again.jpg")
    with caplog.at_level(logging.INFO):
        catalog = ImageFolder().catalog(str(root), None)
    assert np.bincount(catalog.labels).tolist() == [4, 3]
    (line,) = [r for r in caplog.records if r.getMessage().startswith("passed over")]
    assert line.levelno == logging.WARNING
    assert line.getMessage() == (
        f"passed over under {root}: 1 link to a folder already read, 1 second path to an image "
        "already read (each file and folder is read once, whatever the links to it)"
    )


def test_one_file_in_two_classes_is_refused(tmp_path):
    root = make_image_tree(tmp_path / "images", {"a": 2, "b": 2})
    os.link(root / "a" / "image_0001.jpg", root / "b" / "image_0009.jpg")  # a hard link
    with pytest.raises(ConfigError, match="are one file, in two classes: keep it in one"):
        ImageFolder().catalog(str(root), None)


def test_a_decomposed_folder_name_is_the_name_typed(tmp_path):
    decomposed = unicodedata.normalize("NFD", "crème")
    root = make_image_tree(tmp_path / "images", {decomposed: 6, "pain": 6})
    data = ImbalancedDataModule(
        ImageFolder(), root=str(root), minority=["crème"], per_class=4, image_size=8, ratio=2
    )
    data.select()
    assert data.class_names == ["crème", "pain"] and data.minority_names == ["crème"]


def test_no_run_trains_on_a_class_it_has_no_image_of_unless_named(tmp_path):
    """Case 14 of issue 29: a CIFAR train/ folder under data=folder's per_class 32 at 100:1."""
    root = make_image_tree(tmp_path / "images", {name: 40 for name in "abcdefghij"})
    common = ["data=folder", f"data.root={root}", "profile=long_tail", "ratio=100", *TINY]
    refused = run_main(*common, "data.per_class=32", cwd=tmp_path)
    assert refused.returncode == 2
    (line,) = refused.stderr.strip().splitlines()
    # int(32 x (1/100)^(c/9)): 32 19 11 6 4 2 1 0 0 0, and 3 in 10 of each class tested.
    assert line.startswith(
        "error: 3 class(es) would have no training image ('h', 'i', 'j'; training images: a 22, "
        "b 13, c 8, d 4, e 3, f 1, g 1, h 0, i 0, j 0): lower the ratio (data.per_class=32 at "
        "ratio=100 does not), or name them in data.allow_empty=[h,i,j] to run without them"
    )

    run = tmp_path / "run"
    allowed = run_main(*common, "data.per_class=32", "data.allow_empty=[g,h,i,j]",
                       f"hydra.run.dir={run}", cwd=tmp_path)  # fmt: skip
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    results = json.loads((run / "results.json").read_text())
    assert results["counts"]["train"]["j"] == 0 and results["test"]["recall"]["j"] is None


def test_a_profile_draws_from_a_training_list_as_from_a_train_folder(tmp_path):
    root, files = file_lists(tmp_path, {"ant": 12, "bee": 12, "cat": 12})
    lists = {split: str(files[split]) for split in ("train", "test")}
    data = ImbalancedDataModule(FileLists(**lists), root=str(root), per_class=8, image_size=8,
                                profile="long_tail", ratio=4)  # fmt: skip
    data.select()
    # int(8 x (1/4)^(c/2)) = 8, 4, 2 of each class's 10 listed for training; the test list whole.
    assert counts(data)["train"] == {"0": 8, "1": 4, "2": 2}
    assert counts(data)["test"] == {"0": 2, "1": 2, "2": 2}
    with pytest.raises(ConfigError, match="^profile=long_tail draws data.per_class images a "):
        ImbalancedDataModule(FileLists(**lists), root=str(root), per_class=None, image_size=8,
                             profile="long_tail")  # fmt: skip
