"""CIFAR-10 and CIFAR-100 through torchvision, on generated files in CIFAR's own format whose
checksums are patched into torchvision's lists (the only thing of torchvision's patched)."""

import json

import numpy as np
import pytest
import torch
from torchvision import datasets

from helpers import cifar_pixel, make_cifar, run_main
from imbalance.data.datamodule import ImbalancedDataModule
from imbalance.data.sources import CIFAR10, CIFAR100
from imbalance.errors import ConfigError
from imbalance.report.__main__ import main as report_main

CLASSES = [f"class{c}" for c in range(10)]  # make_cifar's names
SOURCES = {"cifar10": (CIFAR10, datasets.CIFAR10), "cifar100": (CIFAR100, datasets.CIFAR100)}


def with_checksums(monkeypatch, dataset, sums: list[list]) -> None:
    """torchvision's checksums of `dataset` replaced by those of the generated files."""
    train = len(dataset.train_list)
    monkeypatch.setattr(dataset, "train_list", sums[:train])
    monkeypatch.setattr(dataset, "test_list", sums[train:-1])
    monkeypatch.setattr(dataset, "meta", {**dataset.meta, "md5": sums[-1][1]})


@pytest.fixture(scope="module", params=sorted(SOURCES))
def full_size(request, tmp_path_factory):
    """(source, its catalog, root) of generated files of the real sizes: 50,000 training images
    (5,000 or 500 a class) and 10,000 test images, read once for the module."""
    source, dataset = SOURCES[request.param]
    root = tmp_path_factory.mktemp(request.param)
    per_class = 5000 if dataset is datasets.CIFAR10 else 500
    sums = make_cifar(root, dataset, per_class, per_class // 5)
    with pytest.MonkeyPatch.context() as monkeypatch:
        with_checksums(monkeypatch, dataset, sums)
        catalog = source().catalog(str(root), None)
    return source, catalog, root


class AlreadyRead:
    """The catalog the source read from the files once, given again: the subset is drawn from
    labels alone, so each ratio need not read 150 MB of files again."""

    def __init__(self, catalog):
        self.given = catalog

    def catalog(self, root, classes):
        return self.given


def long_tail(catalog, ratio: int, seed: int = 0, **settings) -> ImbalancedDataModule:
    per_class = 5000 if len(catalog.class_names) == 10 else 500
    data = ImbalancedDataModule(
        AlreadyRead(catalog), 32, per_class=per_class, ratio=ratio, profile="long_tail",
        seed=seed, **settings,
    )  # fmt: skip
    data.select()
    return data


# Cao et al. 2019's and Cui et al. 2019's training totals.
TOTALS = {10: {100: 12406, 50: 13996, 10: 20431}, 100: {100: 10847, 50: 12608, 10: 19573}}


def test_the_fields_training_totals_and_the_whole_test_set(full_size):
    _, catalog, _ = full_size
    classes = len(catalog.class_names)
    assert catalog.images.shape == (60000, 3, 32, 32)
    largest = 5000 if classes == 10 else 500
    for ratio, total in TOTALS[classes].items():
        data = long_tail(catalog, ratio)
        train = {name: len(ids) for name, ids in data.splits["train"].items()}
        assert sum(train.values()) == total
        assert train["class0"] == largest and train[f"class{classes - 1}"] == largest // ratio
        test = {name: len(ids) for name, ids in data.splits["test"].items()}
        assert test == {name: 10000 // classes for name in catalog.class_names}
        assert all(i.startswith("test/") for ids in data.splits["test"].values() for i in ids)
        assert all(i.startswith("train/") for ids in data.splits["train"].values() for i in ids)


def test_a_seed_draws_the_same_training_images_and_another_seed_others(full_size):
    _, catalog, _ = full_size
    first, again = long_tail(catalog, 100, seed=1), long_tail(catalog, 100, seed=1)
    other = long_tail(catalog, 100, seed=2)
    assert first.splits == again.splits
    assert first.splits["train"] != other.splits["train"]
    assert first.splits["test"] == other.splits["test"]  # the given test set, whole


def test_a_validation_split_comes_from_the_drawn_training_images(full_size):
    _, catalog, _ = full_size
    data = long_tail(catalog, 10, val_fraction=0.1)
    train = {i for ids in data.splits["train"].values() for i in ids}
    val = {i for ids in data.splits["val"].values() for i in ids}
    assert not train & val and all(i.startswith("train/") for i in val)
    assert len(train) + len(val) == TOTALS[len(catalog.class_names)][10]


def test_each_image_keeps_its_label_and_only_the_published_files_are_read(full_size):
    source, catalog, root = full_size
    # Channel-major rows made [n, channel, row, column], each pixel where make_cifar put it.
    for i in (0, 1, 49_999, 50_000, 59_999):
        label = int(catalog.labels[i])
        for c, y, x in ((0, 0, 0), (1, 2, 3), (2, 31, 30), (2, 5, 31)):
            assert catalog.images[i, c, y, x] == cifar_pixel(np.array(label), c, y, x), (i, c, y, x)
    # With torchvision's own checksums (the fixture's patch is undone), the generated files are
    # not the published ones, and nothing of them is unpickled.
    with pytest.raises(ConfigError, match="passes torchvision's check"):
        source().catalog(str(root), None)


def test_a_root_without_cifar_is_one_line_saying_what_to_do(tmp_path):
    with pytest.raises(ConfigError) as error:
        CIFAR10().catalog(str(tmp_path), None)
    assert str(error.value) == (
        f"data.root={tmp_path} holds no CIFAR-10 that passes torchvision's check "
        f"({tmp_path}/cifar-10-batches-py, its files whole): add data.source.download=true to "
        "fetch it there, or set data.root to the folder that holds cifar-10-batches-py"
    )


def test_a_damaged_file_fails_the_check_and_a_named_folder_is_its_parent(tmp_path, monkeypatch):
    sums = make_cifar(tmp_path, datasets.CIFAR100, 3, 1)
    with_checksums(monkeypatch, datasets.CIFAR100, sums)
    inside = tmp_path / "cifar-100-python"
    catalog = CIFAR100(download=True).catalog(str(inside), ["class7", "class2"])  # verified
    assert catalog.class_names == ["class7", "class2"]
    assert sorted(set(catalog.labels.tolist())) == [0, 1]
    assert catalog.images[catalog.labels == 0, 0, 0, 0].unique().tolist() == [7]  # class7's
    with pytest.raises(ConfigError, match="class 'lion' is not in CIFAR-100's classes"):
        CIFAR100().catalog(str(tmp_path), ["lion"])
    with open(inside / "test", "r+b") as file:
        file.seek(200)
        file.write(b"\x00\x01")
    with pytest.raises(ConfigError, match="^data.root=.* holds no CIFAR-100 that passes"):
        CIFAR100().catalog(str(tmp_path), None)


def test_the_cifar_lt_sweep_runs_end_to_end_and_so_does_its_report(tmp_path, monkeypatch):
    root = tmp_path / "cifar"
    with_checksums(monkeypatch, datasets.CIFAR10, make_cifar(root, datasets.CIFAR10, 8, 2))
    sweep = tmp_path / "sweep"
    result = run_main(
        "-m", "experiment=cifar10_lt", "remedy=none,ldam_drw", f"data.root={root}",
        "data.per_class=8", "ratio=4", "trainer.max_epochs=2", "data.batch_size=16",
        "trainer.accelerator=cpu", f"hydra.sweep.dir={sweep}", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    for job in ("remedy=none", "remedy=ldam_drw"):
        results = json.loads((sweep / job / "results.json").read_text())
        assert results["counts"]["train"] == dict(
            zip(CLASSES, [8, 6, 5, 5, 4, 3, 3, 2, 2, 2], strict=True)
        )
        assert results["counts"]["test"] == dict.fromkeys(CLASSES, 2)
        # The recipe's 0.1 at a batch of 128 is 0.0125 at 16; its warm-up: x 1/5, then x 2/5.
        assert [epoch["lr"] for epoch in results["history"]] == pytest.approx([0.0025, 0.005])
        assert results["effective"] == {"data.batch_size": 16, "processes": 1, "optim.lr": 0.0125}
        assert results["config"]["model"]["_target_"] == "imbalance.models.resnet.ResNet32"
    assert report_main([str(sweep), "--baseline", "remedy=none"]) == 0
    assert "ldam_drw" in (sweep / "paired.md").read_text()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
@pytest.mark.parametrize("remedy", ["none", "ldam_drw"])
def test_on_a_gpu_a_cifar_lt_step_never_waits_for_the_gpu(tmp_path, config, remedy):
    """Every training step of the preset (crop and flip, ResNet-32 at bf16, the remedy's loss,
    SGD) only queues work: torch's sync debug mode raises at any wait for the GPU."""
    import lightning as L
    from hydra.utils import instantiate

    from imbalance.build import build

    class NoWaitInSteps(L.Callback):
        def on_train_batch_start(self, *args):
            torch.cuda.set_sync_debug_mode("error")

        def on_train_batch_end(self, *args):
            torch.cuda.set_sync_debug_mode("default")

    cfg = config(
        "experiment=cifar10_lt", f"remedy={remedy}", "data.root=null",
        "data.source._target_=imbalance.bench.generated.CIFARShapes",
        "+data.source.train_per_class=64", "+data.source.test_per_class=8", "data.per_class=64",
        "ratio=10", "data.batch_size=16", "trainer.max_epochs=2", "trainer.accelerator=gpu",
        "trainer.precision=bf16-mixed", "optim.schedule.milestones=[1]",
    )  # fmt: skip
    data, module = build(cfg)
    trainer = instantiate(
        cfg.trainer, logger=False, default_root_dir=tmp_path, callbacks=[NoWaitInSteps()]
    )
    try:
        trainer.fit(module, datamodule=data)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert len(module.history) == 2 and module.net.features[0].weight.is_cuda


def test_a_manifest_keeps_the_given_test_set_whole(tmp_path, monkeypatch):
    root = tmp_path / "cifar"
    with_checksums(monkeypatch, datasets.CIFAR10, make_cifar(root, datasets.CIFAR10, 4, 2))

    def data(manifest=None) -> ImbalancedDataModule:
        made = ImbalancedDataModule(
            CIFAR10(), 32, root=str(root), per_class=4, ratio=2, profile="long_tail",
            manifest=manifest,
        )  # fmt: skip
        made.select()
        return made

    run = data()
    same = tmp_path / "same.json"
    same.write_text(json.dumps({"splits": run.splits}))
    assert data(same).splits == run.splits  # the manifest's own images, the test set whole
    partial = {**run.splits, "test": {name: ids[:1] for name, ids in run.splits["test"].items()}}
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps({"splits": partial}))
    with pytest.raises(ConfigError, match=r"^data.manifest's test split is not the test set .*"):
        data(cut)
