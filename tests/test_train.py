"""The command line end to end, as a user runs it: in this process (run_main), or in a process
of its own where that is the point (run_cli: threads, several processes)."""

import json
import re
from pathlib import Path

import pytest

from helpers import REPO, TINY, make_image_tree, run_cli, run_main
from imbalance.run.resume import CHECKPOINT, stored_run
from recorded import mismatches, replay

CLASSES = [str(d) for d in range(10)]
SCALARS = ["acc", "balanced_acc", "macro_f1", "g_mean", "auroc", "ece"]
SCALARS += ["majority_recall", "minority_recall"]
FINAL = {f"final/{name}" for name in SCALARS}
MINORITY = CLASSES[5:]


@pytest.fixture
def sweep(real_sweep) -> Path:
    return real_sweep


def job_name(*overrides: str) -> str:
    """A sweep's job directory: the job's overrides that vary in the sweep, sorted, joined by
    commas (TINY's are the same for every job)."""
    return ",".join(sorted(overrides))


def test_sweep_names_one_directory_per_job_by_what_varies(sweep):
    jobs = sorted(path.name for path in sweep.iterdir() if path.is_dir() and path.name[0] != ".")
    assert jobs == [
        job_name(f"ratio={ratio}", f"reg={reg}") for ratio in (1, 3) for reg in ("none", "norm")
    ]
    for job in jobs:
        assert list((sweep / job).glob("events.out.tfevents.*")), f"{job} has no TensorBoard events"


def tensorboard_run(run: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(run), size_guidance={"images": 0})
    accumulator.Reload()
    return accumulator


def test_tensorboard_has_sections_and_epochs_on_the_x_axis(sweep):
    accumulator = tensorboard_run(sweep / job_name("ratio=3", "reg=none"))
    tags = set(accumulator.Tags()["scalars"])
    per_class = {
        f"test_{metric}/{name}" for metric in ("precision", "recall", "f1") for name in CLASSES
    }
    expected = {"train/acc", "train/loss", "test/loss", *(f"test/{name}" for name in SCALARS)}
    assert tags == expected | per_class | FINAL
    for tag in tags - FINAL:
        assert [event.step for event in accumulator.Scalars(tag)] == [1, 2], tag


def test_tensorboard_shows_hparams_against_final_metrics_and_the_confusion_matrix(sweep):
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    run = sweep / job_name("ratio=3", "reg=none")
    hparams = {}
    for events in run.glob("events.out.tfevents.*"):
        for event in EventFileLoader(str(events)).Load():
            for value in event.summary.value:
                if value.tag == "_hparams_/session_start_info":
                    data = HParamsPluginData.FromString(value.metadata.plugin_data.content)
                    hparams = dict(data.session_start_info.hparams)
    assert {key: value.WhichOneof("kind") for key, value in hparams.items()} == {
        "data": "string_value",
        "model": "string_value",
        "reg": "string_value",
        "remedy": "string_value",
        "profile": "string_value",
        "ratio": "number_value",
        "mu": "number_value",
        "seed": "number_value",
        "data_seed": "number_value",
    }
    assert hparams["reg"].string_value == "none" and hparams["ratio"].number_value == 3

    accumulator = tensorboard_run(run)
    results = json.loads((run / "results.json").read_text())
    (final_acc,) = accumulator.Scalars("final/acc")
    assert final_acc.value == pytest.approx(results["test"]["acc"])
    (minority_recall,) = accumulator.Scalars("final/minority_recall")
    assert minority_recall.value == pytest.approx(
        sum(results["test"]["recall"][name] for name in MINORITY) / len(MINORITY)
    )
    (matrix,) = accumulator.Images("test/confusion_matrix")
    assert matrix.encoded_image_string.startswith(b"\x89PNG") and matrix.width > 300


@pytest.mark.parametrize("ratio, reg", [(1, "none"), (3, "norm")])
def test_results_json_holds_what_a_run_produced(sweep, ratio, reg):
    job = job_name(f"ratio={ratio}", f"reg={reg}")
    results = json.loads((sweep / job / "results.json").read_text())
    assert results["job"] == job
    # Every override, the accelerator too, though the job's name leaves it out.
    overrides = [*TINY, f"ratio={ratio}", f"reg={reg}", "trainer.accelerator=cpu"]
    assert sorted(results["overrides"]) == sorted(overrides)
    assert results["choices"] == {
        "data": "digits",
        "model": "compact",
        "reg": reg,
        "remedy": "none",
        "trainer": "default",
        "experiment": None,
    }
    assert results["config"]["ratio"] == ratio
    assert results["config"]["reg"]["batch_norm"] == (reg == "norm")
    assert results["classes"] == CLASSES and results["minority"] == MINORITY

    # 8 per class at 1:1; at 3:1, 80 / (5 + 5 * 3) = 4 minority and 12 majority; 30% test.
    sizes = {1: (8, 8), 3: (12, 4)}[ratio]
    counts = results["counts"]
    for name in CLASSES:
        size = sizes[name in MINORITY]
        test = int(0.3 * size + 0.5)
        assert (counts["train"][name], counts["test"][name]) == (size - test, test)

    history = results["history"]
    assert [epoch["epoch"] for epoch in history] == [1, 2]  # TINY trains 2 epochs
    for epoch in history:
        for key in ("train_acc", "test_acc"):
            assert 0 <= epoch[key] <= 1
        for key in ("train_loss", "test_loss"):
            assert epoch[key] > 0

    test = results["test"]
    assert set(test["precision"]) == set(test["recall"]) == set(CLASSES)
    matrix = test["confusion_matrix"]
    assert len(matrix) == 10 and all(len(row) == 10 for row in matrix)
    assert [sum(row) for row in matrix] == [counts["test"][name] for name in CLASSES]
    correct = sum(matrix[i][i] for i in range(10))
    assert test["acc"] == pytest.approx(correct / sum(map(sum, matrix)))
    for i, name in enumerate(CLASSES):
        assert test["recall"][name] == pytest.approx(matrix[i][i] / sum(matrix[i]))
    # The final model is the last epoch's: the same test numbers.
    assert test["acc"] == pytest.approx(history[-1]["test_acc"])
    assert test["loss"] == pytest.approx(history[-1]["test_loss"], rel=1e-5)


def test_a_new_regularizer_from_outside_the_package_trains(tmp_path):
    (tmp_path / "conf" / "reg").mkdir(parents=True)
    (tmp_path / "conf" / "reg" / "strong.yaml").write_text(
        "# Stronger augmentation plus label smoothing.\n"
        "weight_decay: 0.0005\n"
        "augment:\n"
        "  _target_: imbalance.data.augment.RandomAffine\n"
        "  rotation: 30\n"
        "  hflip: 0.5\n"
        "  translate: 6\n"
        "dropout: 0.5\n"
        "batch_norm: true\n"
        "label_smoothing: 0.1\n"
    )
    run_dir = tmp_path / "run"
    result = run_main(
        "reg=strong",
        f"hydra.searchpath=[file://{tmp_path / 'conf'}]",
        *TINY,
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((run_dir / "results.json").read_text())
    assert results["config"]["reg"]["label_smoothing"] == 0.1
    assert results["config"]["reg"]["augment"]["rotation"] == 30
    assert len(results["history"]) == 2


def caltech_without_metronome(root: Path) -> str:
    make_image_tree(root / "101_ObjectCategories", {"airplanes": 2, "Faces": 2})
    return str(root)


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["data=caltech101", "data.root={tmp}/nowhere"],
            "data.root='.*nowhere' does not exist; fix data.root, or add data.source.download=true",
        ),
        (["data=caltech101", "data.root={tmp}"], "no Caltech101 under data.root="),
        (
            ["data=folder", "data.root={tmp}/nowhere"],
            "data.root='.*nowhere' does not exist; fix data.root; data.minority has no value",
        ),
        (["ratio=abc"], "ratio=abc is not a number"),
        (
            ["data=folder", "data.root={folder}", "data.classes=[a]", "data.minority=[a]"],
            r"an imbalance study needs at least 2 classes, and the data has 1 \('a'\)",
        ),
        (
            ["data=folder", "data.root={folder}", "data.cache_dir=None"],
            "data.cache_dir=None is a folder named 'None'; write data",
        ),
        (["data=caltech101", "data.root={caltech}"], "class folder '.*watch' is missing"),
        (
            ["data=folder", "data.root={folder}", "data.minority=[b]"],
            r"class 'a' has 3 images but this ratio needs 32; .* \(data.per_class=3 fits at "
            r"ratio=1\)",
        ),
        (["data=folder", "data.root={folder}"], "data.minority has no value: give it"),
        (["ratio=0.5"], "ratio=0.5 is below 1"),
        (["model=paper", "data.image_size=32"], "model.layers shrink a 32x32 image to nothing"),
        (["mu=1.5"], r"mu=1.5 is outside \(0, 1\)"),
        (["profile=linear", "mu=0.3"], "mu applies to profile=step only"),
        (["+trainer.bogus=1"], "trainer.bogus is a key that nothing reads"),
        (
            ["-m", "ratio=1,3", "trainer.accelerator=cpu", "trainer.devices=2"],
            "a run on 2 devices cannot be a job of a local sweep",
        ),
        (
            ["trainer.accelerator=cpu", "trainer.devices=2", "trainer.strategy=ddp_spawn"],
            "a run on several devices needs trainer.strategy=ddp",
        ),
    ],
    ids=[
        "missing root",
        "no Caltech101 in root",
        "missing root, then the missing values",
        "ratio not a number",
        "one class",
        "None for null",
        "missing class folder",
        "too few images",
        "no minority given",
        "ratio below 1",
        "image too small for the network",
        "bad mu",
        "mu for another profile",
        "a Trainer key nothing reads",
        "multi-device job in a local sweep",
        "spawned multi-device run",
    ],
)
def test_bad_input_gets_one_clear_line_and_a_non_zero_exit(tmp_path, args, message):
    places = {
        "tmp": tmp_path,
        "caltech": caltech_without_metronome(tmp_path / "caltech"),
        "folder": make_image_tree(tmp_path / "folder", {"a": 3, "b": 3}),
    }
    result = run_main(*[arg.format(**places) for arg in args], cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    # A sweep's jobs each say why they stopped; its last line counts them
    # (tests/test_sweep_failures.py).
    line = lines[-1] if "-m" not in args else next(x for x in lines if re.search(message, x))
    assert line.startswith("error: ")
    assert re.search(message, line), line
    assert not list(tmp_path.rglob("results.json"))
    # The run's directory says why the run stopped.
    logs = list((tmp_path / "outputs").rglob("train.log"))
    assert logs
    for log in logs:
        assert line in log.read_text(), log


@pytest.mark.parametrize(
    "args, line",
    [
        # Hydra's refusal of a key the config lacks, which its message would have the user add
        # with a +: this project's line, with the key the user meant
        (["trainer.epochs=1"], r"trainer.epochs is a key that nothing reads \(lightning.pytorch"
         r".Trainer takes: .*\); drop it or fix its name; did you mean trainer.max_epochs\?$"),
        (["-m", "ratio=1,3", "remedi=focal"], r"^error: remedi is a key that nothing reads \(the "
         r"top level has: .*remedy.*\); drop it or fix its name; did you mean remedy\?$"),
        # the same key added with a +: the project's own refusal, the same suggestion
        (["+reg.dropuot=0.5"], r"reg.dropuot is a key .* its name; did you mean reg.dropout\?$"),
        # a key that the Trainer reads, which only lacks its +
        (["trainer.gradient_clip_val=1.0"], r"^error: trainer.gradient_clip_val is not in the "
         r"config yet: add it with \+trainer.gradient_clip_val=1.0$"),
        # an option its group lacks
        (["remedy=focall"], r"^error: remedy=focall is none of remedy's options \(cb_focal, .*, "
         r"weight_balancing\); did you mean remedy=focal\?$"),
    ],
)  # fmt: skip
def test_a_misspelled_key_or_option_is_one_line_with_the_nearest_valid_one(tmp_path, args, line):
    result = run_main(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert re.search(line, result.stderr.strip()), result.stderr


@pytest.mark.parametrize("flush", [True, False])
def test_flush_denormal_reaches_every_cpu_thread(tmp_path, flush):
    result = run_cli(
        *TINY,
        "trainer.max_epochs=1",
        f"flush_denormal={flush}",
        "+trainer.callbacks=[{_target_:subnormal_probe.CountSubnormalResults}]",
        f"hydra.run.dir={tmp_path / 'run'}",
        cwd=tmp_path,
        # Two threads: a setting made too late reaches the main thread only.
        env={"PYTHONPATH": str(REPO / "tests"), "OMP_NUM_THREADS": "2"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    count = int(re.search(r"subnormal results: (\d+)", result.stdout).group(1))
    assert (count == 0) if flush else (count == 1 << 22)


def test_a_run_on_two_devices_tests_every_image_once_and_writes_one_result(tmp_path):
    run_dir = tmp_path / "run"
    result = run_cli(
        "ratio=3",
        *TINY,
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "trainer.strategy=ddp",
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (run_dir / "train_ddp_process_1.log").exists()  # Lightning started a second process
    assert list(tmp_path.rglob("results.json")) == [run_dir / "results.json"]
    results = json.loads((run_dir / "results.json").read_text())
    test_images = sum(results["counts"]["test"].values())
    # An odd count, split over two processes: a DistributedSampler would test one image twice.
    assert test_images == 25
    assert sum(map(sum, results["test"]["confusion_matrix"])) == test_images
    assert len(results["history"]) == 2
    # Said once, not once per process.
    for line in ("images: ", "epoch 1/2: ", "epoch 2/2: ", "test acc "):
        assert result.stdout.count(f"] - {line}") == 1, line


def test_a_long_tail_run_with_validation_and_a_run_on_its_manifest(tmp_path):
    first, again = tmp_path / "first", tmp_path / "again"
    overrides = ["profile=exponential", "ratio=4", "data.test=balanced", "data.test_per_class=3"]
    result = run_main(
        *overrides, "data.val_fraction=0.25", *TINY, f"hydra.run.dir={first}", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((first / "results.json").read_text())
    assert results["groups"] == {
        "many": CLASSES[:3],
        "medium": CLASSES[3:7],
        "few": CLASSES[7:],
    }
    assert {"few_recall", "many_recall", "g_mean", "auroc"} <= set(results["test"])
    assert results["counts"]["test"] == {name: 3 for name in CLASSES}
    assert sum(results["counts"]["val"].values()) > 0
    assert {"val_acc", "val_balanced_acc", "val_loss", "test_few_recall"} <= set(
        results["history"][-1]
    )
    assert f"splits sha256 {results['splits_hash']}" in result.stdout  # the run's log
    tags = set(tensorboard_run(first).Tags()["scalars"])
    assert {"val/acc", "val/balanced_acc", "val/few_recall", "test/few_recall"} <= tags

    # Other seeds, the manifest's images: the very same splits.
    result = run_main(
        "profile=exponential",
        "ratio=4",
        "seed=5",
        f"data.manifest={first / 'results.json'}",
        *TINY,
        f"hydra.run.dir={again}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rerun = json.loads((again / "results.json").read_text())
    assert rerun["splits"] == results["splits"]
    assert rerun["splits_hash"] == results["splits_hash"]
    assert rerun["counts"] == results["counts"]


def test_every_remedy_trains_in_one_sweep(tmp_path):
    remedies = sorted(path.stem for path in (REPO / "conf" / "remedy").glob("*.yaml"))
    assert len(remedies) == 23
    result = run_main(
        "-m",
        "remedy=glob(*)",
        "ratio=3",
        *TINY,
        "trainer.max_epochs=1",
        f"hydra.sweep.dir={tmp_path}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    runs = {}
    for path in tmp_path.glob("*/results.json"):
        results = json.loads(path.read_text())
        runs[results["choices"]["remedy"]] = results
    assert sorted(runs) == remedies
    for name, results in runs.items():
        # Their second stage's epochs.
        stages = 10 if name in ("crt", "two_phase", "lws", "weight_balancing") else 0
        assert len(results["history"]) == 1 + stages, name
        assert 0 <= results["test"]["balanced_acc"] <= 1, name


def test_an_unknown_remedy_is_named(tmp_path):
    result = run_main("remedy=magic", *TINY, cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: remedy=magic is none of remedy's options (")
    assert "oversample" in result.stderr  # the options listed


def test_a_class_without_test_images_is_undefined_not_zero_and_the_report_says_so(tmp_path):
    # At 100:1 every minority digit has one image, and it goes to training: run by name.
    run_dir = tmp_path / "runs" / "ratio-100"
    allowed = "data.allow_empty=[5,6,7,8,9]"
    result = run_main("ratio=100", allowed, *TINY, f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((run_dir / "results.json").read_text())
    assert all(results["counts"]["test"][name] == 0 for name in MINORITY)
    assert all(results["test"]["recall"][name] is None for name in MINORITY)
    assert results["test"]["minority_recall"] is None
    assert 0 <= results["test"]["balanced_acc"] <= 1  # over the majority digits alone
    assert "have no test image" in result.stdout
    assert "minority_recall undefined" in result.stdout
    assert "minority_recall nan" not in result.stdout

    from imbalance.report.__main__ import main

    assert main([str(tmp_path / "runs")]) == 0
    summary = (tmp_path / "runs" / "summary.md").read_text()
    assert "Runs without test images of some classes" in summary
    assert "'5', '6', '7', '8', '9'" in summary


def test_a_job_name_too_long_for_the_file_system_is_cut_with_a_hash(tmp_path):
    from imbalance.resolvers import job_name

    long = "data.minority=[" + ",".join(["5", "6", "7", "8", "9"] * 30) + "]"
    result = run_main("-m", long, *TINY, f"hydra.sweep.dir={tmp_path}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    (job,) = [path for path in tmp_path.iterdir() if path.is_dir() and path.name[0] != "."]
    assert len(job.name.encode()) <= 200 and job.name == job_name(",".join(sorted([*TINY, long])))
    results = json.loads((job / "results.json").read_text())
    assert long in results["overrides"]  # the full overrides, in the results
    assert job_name("a" * 300) != job_name("a" * 299 + "b")  # distinct names stay distinct


REFERENCES = sorted((REPO / "tests" / "data").glob("reference_*.json"))


@pytest.mark.parametrize("recorded", REFERENCES, ids=[path.stem for path in REFERENCES])
def test_a_short_run_gives_the_numbers_recorded_before_the_code_changed(recorded, tmp_path):
    """tests/data/reference_*.json: a float64 run's history and test results, recorded before a
    change of the code (`recorded` says which; tests/recorded.py): one per kind of remedy
    (sampler, loss, correction and its tau search, second stage) and the schedule. The same
    config, seed and thread count give them again on any CPU, to a float32's last digits."""
    reference = json.loads(recorded.read_text())
    assert mismatches(reference, replay(reference["overrides"], tmp_path)) == []


def test_a_recorded_number_changed_is_a_mismatch():
    reference = json.loads((REPO / "tests" / "data" / "reference_run.json").read_text())
    assert reference["test"]["balanced_acc"] > 0.5  # a run that learns, not one class for all
    assert len({epoch["tau"] for epoch in reference["history"]}) == 3  # tau searched each epoch
    changed = json.loads(json.dumps(reference))
    changed["history"][1]["train_loss"] *= 1 + 1e-5
    changed["test"]["recall"]["5"] = None
    del changed["history"][2]["lr"]
    assert mismatches(reference, reference) == []
    assert mismatches(reference, changed) == [
        f"history.1.train_loss: {reference['history'][1]['train_loss']} -> "
        f"{changed['history'][1]['train_loss']}",
        f"history.2.lr: {reference['history'][2]['lr']} -> (none)",
        f"test.recall.5: {reference['test']['recall']['5']} -> None",
    ]


def test_a_last_batch_of_one_image_is_left_out_where_batch_norm_trains(tmp_path):
    # 8 digits a class, 2 of them tested: 60 training images, in batches of 59 and of 1. At 32
    # pixels, resnet18's last batch norm sees one value a channel for one image, and cannot.
    run = tmp_path / "run"
    args = [*TINY, "data.image_size=32", "model=torchvision", "data.batch_size=59",
            "trainer.max_epochs=1", f"hydra.run.dir={run}"]  # fmt: skip
    result = run_main(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((run / "results.json").read_text())
    assert sum(results["counts"]["train"].values()) == 60
    assert (
        "an epoch of 60 training images ends in a batch of one (data.batch_size=59), which the "
        "network's batch norm cannot train on: each epoch leaves out its last image, a different "
        "one each epoch"
    ) in result.stdout
    # The compact network's batch norm normalises over every pixel of a map: it takes one image.
    compact = run_main(*TINY, "reg=norm", "data.batch_size=59", "trainer.max_epochs=1",
                       f"hydra.run.dir={tmp_path / 'compact'}", cwd=tmp_path)  # fmt: skip
    assert compact.returncode == 0 and "batch of one" not in compact.stdout


def test_a_loss_that_is_not_finite_stops_the_run_and_marks_it_diverged(tmp_path):
    run = tmp_path / "run"
    args = [*TINY, "trainer.max_epochs=3", "checkpoint_every_s=0", f"hydra.run.dir={run}",
            "+trainer.callbacks=[{_target_:nan_probe.NanWeightsAt,epoch:2}]"]  # fmt: skip
    result = run_main(*args, cwd=tmp_path)
    assert result.returncode == 2
    results = json.loads((run / "results.json").read_text())
    images = sum(results["counts"]["train"].values())
    steps = -(-images // results["config"]["data"]["batch_size"])  # one epoch's steps
    assert results["diverged"] == {
        "epoch": 2, "step": steps + 1, "loss": "nan", "checkpointed_epochs": 1
    }  # fmt: skip
    assert "test" not in results and len(results["history"]) == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"error: diverged: the training loss is nan at epoch 2, step {steps + 1} (")
    )
    assert stored_run(run / CHECKPOINT)[1] == 1, "the last finite epoch's checkpoint, kept"

    again = run_main(*args, cwd=tmp_path)
    assert again.returncode == 2
    assert f"error: {run} holds this run, which diverged: the training loss is nan" in again.stderr
