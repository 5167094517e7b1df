"""The benchmark's baselines run the same work as a framework run (their speed is measured
by `make bench`, not here)."""

import json
from pathlib import Path

import pytest
from PIL import Image

from helpers import make_image_tree
from imbalance.bench import baselines


@pytest.mark.parametrize("source", ["folder", "digits"])
def test_the_baselines_train_for_the_configured_epochs(tmp_path, config, source):
    common = ["data.image_size=16", "reg=full", "trainer.max_epochs=2", "trainer.accelerator=cpu"]
    if source == "folder":
        classes = [f"c{i}" for i in range(4)]
        root = make_image_tree(tmp_path / "images", {name: 6 for name in classes})
        common += [f"data.root={root}", "data.minority=[c2,c3]", "data.cache_dir=null"]
    cfg = config(f"data={source}", "data.per_class=4", *common)
    for seconds in (
        baselines.floor(cfg),
        baselines.lightning_floor(cfg),
        baselines.fabric_floor(cfg),
        baselines.naive(cfg, workers=0),
    ):
        assert len(seconds) == 2 and all(s > 0 for s in seconds)


def test_the_naive_pipeline_decodes_the_images_the_framework_trains_on(config):
    cfg = config("data.per_class=4", "data.image_size=16")
    data, _ = baselines.build(cfg)
    catalog, splits = data.select()
    indices = splits["train"]
    dataset = baselines.DecodedEveryEpoch(
        baselines._opener(catalog, indices), catalog.labels[indices], 16
    )
    framework_images, framework_labels = data.train_set.tensors
    for i in range(3):
        pixels, label = dataset[i]
        assert pixels.shape == (1, 16, 16) and label == framework_labels[i]
        # PIL's bicubic resize against torchvision's: within a grey level on average.
        assert (pixels - framework_images[i].float()).abs().mean() < 1


def test_a_new_benchmark_section_goes_above_the_dated_ones_below_the_explanations():
    from imbalance.bench.markdown import with_section

    document = (
        "# Benchmarks\n\nIntro.\n\n## How a run is fast\n\nWhy.\n\n## 2026-11-29: old\n\nOld.\n"
    )
    assert with_section(document, "## 2026-12-06: new\n\nNew.\n") == (
        "# Benchmarks\n\nIntro.\n\n## How a run is fast\n\nWhy.\n\n"
        "## 2026-12-06: new\n\nNew.\n\n## 2026-11-29: old\n\nOld.\n"
    )
    assert with_section("# Benchmarks\n\n", "## 2026-12-06: new\n") == (
        "# Benchmarks\n\n## 2026-12-06: new\n\n"
    )


def test_a_measurement_replaces_the_current_figures_under_its_heading_or_adds_them():
    from imbalance.bench.markdown import with_current

    document = (
        "# Benchmarks\n\nIntro.\n\n## Current figures\n\nWhat.\n\n### digits preset\n\n*old*\n\n"
        "Old.\n\n### digits preset, study sweep\n\nSweep.\n\n## How a run is fast\n\nWhy.\n"
    )
    section = "## 2026-12-08: a machine\n\n`command`.\n\n| figures |\n"
    new = "### digits preset\n\n*2026-12-08: a machine*\n\n`command`.\n\n| figures |\n\n"
    assert with_current(document, "digits preset", section) == document.replace(
        "### digits preset\n\n*old*\n\nOld.\n\n", new
    )
    added = with_current(document, "paper preset", section)
    assert added == document.replace(
        "## How a run", new.replace("digits", "paper") + "## How a run"
    )
    assert with_current("# Benchmarks\n", "digits preset", section) == (
        f"# Benchmarks\n\n## Current figures\n\n{new.strip()}\n"
    )


def test_benchmarks_md_has_the_current_figures_of_each_preset_for_the_bench_to_replace():
    from argparse import Namespace

    from imbalance.bench.markdown import CURRENT, title
    from imbalance.bench.presets import GOALS

    root = Path(__file__).parents[1]
    text = (root / "BENCHMARKS.md").read_text()
    current = text[text.index(f"\n{CURRENT}\n") :]
    current = current[: current.index("\n## ", 1)]
    for preset in GOALS:
        heading = title(Namespace(scale=None, preset=preset, sweep=None), gpu=False)
        assert f"\n### {heading}\n\n*20" in current, heading  # its date first
    assert "](docs/benchmarks-history.md)" in text
    assert (root / "docs" / "benchmarks-history.md").exists()


def test_the_scale_benchmarks_folders_are_long_tailed(tmp_path):
    from imbalance.bench.scale import long_tail_counts, make_folder

    # 100 classes, sizes r^k with r = 100^(1/99), summing to 2179.1 at n_min = 1: for 20,000
    # images n_min = round(20000 / 2179.1) = 9, n_max = 900.
    counts = long_tail_counts(20000)
    assert (len(counts), counts[0], counts[-1]) == (100, 900, 9)
    assert 19_500 < sum(counts) < 20_000
    folder = make_folder(tmp_path / "images", 250)  # n_min 1: 100, ..., 1
    files = sorted(folder.rglob("*.jpg"))
    assert len(files) == sum(long_tail_counts(250))
    assert len(list((folder / "class_000").iterdir())) == 100
    with Image.open(files[0]) as image:
        assert image.size == (64, 64) and image.mode == "RGB"


def test_the_peak_memory_of_a_process_tree_counts_its_children(tmp_path):
    import subprocess
    import sys

    from imbalance.bench.scale import PeakMemory, anonymous_memory

    # A child that holds 200 MiB of its own memory for a moment.
    script = "import time; block = bytearray(200 * 2**20); time.sleep(1)"
    child = subprocess.Popen([sys.executable, "-c", script])
    with PeakMemory(child.pid, every=0.05) as peak:
        child.wait()
    assert peak.bytes > 200 * 2**20
    assert anonymous_memory(child.pid) == 0  # gone


def test_the_cifar_preset_draws_from_images_of_cifars_shapes_and_its_baselines_train(config):
    from argparse import Namespace

    from imbalance.bench.presets import overrides

    args = Namespace(
        preset="cifar10_lt", data=None, per_class=10, ratio="4", reg="long_tail", epochs=1,
        accelerator="cpu", precision="bf16-mixed",
    )  # fmt: skip
    cfg = config(*overrides(args), "data.batch_size=8", "model.blocks=1")
    assert cfg.data.source._target_ == "imbalance.bench.generated.CIFARShapes"
    data, _ = baselines.build(cfg)
    data.setup()
    # int(10 x (1/4)^(c/9)) training images of class c; 10 // 5 test images of each.
    assert list(data.counts("train").values()) == [10, 8, 7, 6, 5, 4, 3, 3, 2, 2]
    assert list(data.counts("test").values()) == [2] * 10
    for seconds in (baselines.floor(cfg), baselines.lightning_floor(cfg)):
        assert len(seconds) == 1 and seconds[0] > 0


def test_the_bare_loop_follows_the_runs_precision():
    import torch

    cpu = torch.device("cpu")
    autocast, scaler = baselines.mixed_precision("bf16-mixed", cpu)
    assert autocast._enabled and autocast.fast_dtype == torch.bfloat16 and not scaler.is_enabled()
    autocast, scaler = baselines.mixed_precision("16-mixed", cpu)
    assert autocast._enabled and autocast.fast_dtype == torch.float16 and scaler.is_enabled()
    autocast, scaler = baselines.mixed_precision("32-true", cpu)
    assert not autocast._enabled and not scaler.is_enabled()
    with pytest.raises(ValueError, match="runs 32-true, bf16-mixed or 16-mixed, not bf16-true"):
        baselines.mixed_precision("bf16-true", cpu)


def test_over_four_turns_each_run_takes_each_place_once_and_follows_each_other_run_once():
    from imbalance.bench.stats import turn_order

    runs = ["a", "b", "d", "e"]
    orders = [turn_order(turn, runs) for turn in range(5)]
    assert orders == [list("abed"), list("bdae"), list("deba"), list("eadb"), list("abed")]
    assert runs == ["a", "b", "d", "e"]  # not reordered in place
    for place in range(4):
        assert sorted(order[place] for order in orders[:4]) == runs
    follows = sorted((o[i], o[i + 1]) for o in orders[:4] for i in range(3))
    assert follows == sorted((x, y) for x in runs for y in runs if x != y)


def test_the_goal_is_the_median_epoch_of_a_over_its_baselines_in_the_same_turn():
    from imbalance.bench.stats import paired_ratios

    a = [[1.0, 3.0, 2.0], [4.0, 4.0, 9.0]]  # medians 2 and 4
    d = [[1.0, 1.0, 7.0], [8.0, 5.0, 1.0]]  # medians 1 and 5
    assert paired_ratios(a, d) == [2.0, 0.8]
    with pytest.raises(ValueError):  # a turn without its baseline
        paired_ratios(a, d[:1])


def test_the_interval_for_the_median_turn_is_the_widest_order_statistics_that_cover_enough():
    from imbalance.bench.stats import median_interval

    # 8 turns: the 2nd smallest to the 2nd largest cover 1 - 2 (1 + 8) / 256 = 0.9297 >= 0.9;
    # the 3rd to the 6th only 1 - 2 (1 + 8 + 28) / 256 = 0.7109.
    assert median_interval([8.0, 1.0, 7.0, 2.0, 6.0, 3.0, 5.0, 4.0]) == (2.0, 7.0, 0.9296875)
    assert median_interval([3.0, 1.0, 2.0, 5.0, 4.0]) == (1.0, 5.0, 0.9375)  # 1 - 2/32
    assert median_interval([1.0, 2.0]) is None  # the pair covers 1 - 2/4 = 0.5
    assert median_interval([1.0, 2.0], level=0.49) == (1.0, 2.0, 0.5)


def test_the_digits_goal_is_held_to_lightnings_loop_and_the_papers_to_the_bare_loop():
    from imbalance.bench.presets import GOALS

    assert GOALS["digits"] == ("d", 1.10) and GOALS["paper"] == ("b", 1.05)


def test_the_benchmark_holds_each_turns_framework_run_to_the_same_turns_baseline(monkeypatch):
    import re
    from argparse import Namespace

    import imbalance.bench.runner as bench

    # The host runs every turn at its own speed; within a turn, (a) takes 1.05 of (d)'s time.
    speed = {"0": 1.0, "1": 3.0, "2": 1.0, "3": 2.0, "4": 1.5, "": 1.0}
    share = {"warm": 1.05, "cold": 1.05, "floor": 0.8, "lightning": 1.0, "fabric": 0.9}
    ran = []

    def fake_run_child(command, log):
        name, turn = re.fullmatch(r"([a-z]+)(\d*)\.log", log.name).groups()
        ran.append(name)
        epochs = [share[name] * speed[turn]] * 3
        if "imbalance.train" in command:
            run = Path(next(a for a in command if a.startswith("hydra.run.dir=")).split("=")[1])
            run.mkdir(parents=True)
            (run / "results.json").write_text(json.dumps({
                "timing": {"epochs": epochs, "data_ready_at": 1.0, "job_started_at": 0.5},
                "counts": {"train": {"x": 220}, "test": {"x": 100}},
                "config": {"data": {"image_size": 32, "batch_size": 10}},
            }))  # fmt: skip
        else:
            log.write_text(json.dumps(epochs))
        return 10.0, 2**30, 2**30

    monkeypatch.setattr(bench, "run_child", fake_run_child)
    args = Namespace(
        preset="digits", epochs=3, baseline_epochs=None, repeat=5, skip_naive=True, cache=None,
        data=None, per_class=None, ratio="1", reg="none", accelerator="cpu", workers=0,
        precision="32-true",
    )  # fmt: skip
    section = bench.measure(args)
    assert ran[1:5] == ["warm", "floor", "fabric", "lightning"]  # a, b, e, d: turn_order's
    assert ran[5:9] == ["floor", "lightning", "warm", "fabric"]  # b, d, a, e
    assert (
        "(a) over (d) in the same turn:** the median of 5 turns 1.05 (goal <= 1.10: met); 94% "
        "interval for it 1.05 to 1.05, below the goal; each turn 1.05, 1.05, 1.05, 1.05, 1.05"
    ) in section
