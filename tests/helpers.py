import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]

# Small enough that a run takes a few seconds on 2 CPU cores.
TINY = ["data.per_class=8", "data.image_size=16", "trainer.max_epochs=2"]


def make_image_tree(root: Path, counts: dict[str, int], grey: str | None = None) -> Path:
    """A class-per-folder tree of random JPEGs of varied sizes; `grey` gets a greyscale image."""
    rng = np.random.default_rng(0)
    for name, count in counts.items():
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(count):
            height, width = rng.integers(20, 40, size=2)
            pixels = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
            image = Image.fromarray(pixels)
            if name == grey and i == 0:
                image = image.convert("L")
            image.save(folder / f"image_{i + 1:04d}.jpg")
    return root


def file_lists(tmp_path: Path, counts: dict[str, int], tested: int = 2) -> tuple[Path, dict]:
    """Images of `counts`, and train/test lists in ImageNet-LT's format: each class's first
    `tested` images for test, the rest for training; class names in names.txt."""
    root = make_image_tree(tmp_path / "images", counts)
    lists = {"train": [], "test": []}
    for label, name in enumerate(counts):
        for i in range(counts[name]):
            split = "test" if i < tested else "train"
            lists[split].append(f"{name}/image_{i + 1:04d}.jpg {label}")
    files = {}
    for split, lines in [*lists.items(), ("class_names", list(counts))]:
        files[split] = tmp_path / f"{split}.txt"
        files[split].write_text("\n".join(lines) + "\n")
    return root, files


def run_cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m imbalance.train ARGS` in `cwd`, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "imbalance.train", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning", **(env or {})},
        capture_output=True,
        text=True,
        timeout=240,
    )


def run_main(
    *args: str, cwd: Path, env: dict | None = None, main=None
) -> subprocess.CompletedProcess:
    """`python -m imbalance.train ARGS` (or another command's `main`, e.g. imbalance.tune's) in
    `cwd`, run in this process: what a user sees (exit status, stdout, stderr) without the
    seconds a new process takes to import torch and Lightning. For tests of what the command
    does; run_cli where a process of its own is the point (threads, signals, processes)."""
    import contextlib
    import io

    from hydra.core.global_hydra import GlobalHydra

    if main is None:
        from imbalance.train import main

    stdout, stderr = io.StringIO(), io.StringIO()
    saved = sys.argv, sys.orig_argv, os.getcwd(), dict(os.environ)
    status = 0
    try:
        sys.argv = ["imbalance/train.py", *args]
        sys.orig_argv = [sys.executable, "-m", "imbalance.train", *args]  # as the user typed it
        os.chdir(cwd)
        os.environ.update(env or {})
        GlobalHydra.instance().clear()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                main()
            except SystemExit as exit:
                status = exit.code if isinstance(exit.code, int) else int(exit.code is not None)
    finally:
        GlobalHydra.instance().clear()
        sys.argv, sys.orig_argv = saved[:2]
        os.chdir(saved[2])
        os.environ.clear()
        os.environ.update(saved[3])
    return subprocess.CompletedProcess(sys.argv, status, stdout.getvalue(), stderr.getvalue())


def fake_results(ratio: int, reg: str, seed: int, epochs: int = 3) -> dict:
    """A results.json as a run writes it, with random but self-consistent numbers."""
    rng = np.random.default_rng([ratio, sum(map(ord, reg)), seed])
    classes = ["a", "b", "c", "d"]
    minority = ["c", "d"]
    counts = [6, 6, 2, 2] if ratio > 1 else [4, 4, 4, 4]
    matrix = np.zeros((4, 4), dtype=int)
    for true, n in enumerate(counts):
        for predicted in rng.integers(0, 4, size=n):
            matrix[true, predicted] += 1
    tp, predicted = np.diag(matrix), matrix.sum(axis=0)
    precision = np.divide(tp, predicted, out=np.zeros(4), where=predicted > 0)
    recall = tp / matrix.sum(axis=1)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros(4), where=both > 0)
    overrides = [f"ratio={ratio}", f"reg={reg}", f"seed={seed}"]
    return {
        "job": ",".join(overrides),
        "overrides": overrides,
        "choices": {"data": "digits", "model": "compact", "reg": reg, "trainer": "default"},
        "config": {
            "ratio": ratio,
            "profile": "step",
            "mu": 0.5,
            "seed": seed,
            "data": {"seed": seed},
        },
        "classes": classes,
        "minority": minority,
        "groups": {"majority": ["a", "b"], "minority": minority},
        "counts": {
            "train": dict(zip(classes, counts, strict=True)),
            "test": dict(zip(classes, counts, strict=True)),
        },
        "history": [
            {
                "epoch": e + 1,
                "train_acc": float(rng.random()),
                "train_loss": float(rng.random() * 2),
                "test_acc": float(rng.random()),
                "test_loss": float(rng.random() * 2),
                "lr": 0.01,
            }
            for e in range(epochs)
        ],
        "test": {
            "acc": float(tp.sum() / matrix.sum()),
            "balanced_acc": float(recall.mean()),
            "macro_f1": float(f1.mean()),
            "g_mean": float(np.prod(recall) ** (1 / 4)),
            "auroc": float(rng.random()),
            "ece": float(rng.random() / 4),
            "majority_recall": float(recall[:2].mean()),
            "minority_recall": float(recall[2:].mean()),
            "loss": float(rng.random()),
            "precision": dict(zip(classes, precision.tolist(), strict=True)),
            "recall": dict(zip(classes, recall.tolist(), strict=True)),
            "f1": dict(zip(classes, f1.tolist(), strict=True)),
            "confusion_matrix": matrix.tolist(),
        },
    }


def fake_sweep(root: Path, ratios, regs, seeds, skip=()) -> Path:
    """A sweep directory as Hydra and the trainer leave it; jobs in `skip` started but failed."""
    import json

    root.mkdir(parents=True)
    (root / "multirun.yaml").write_text(
        "hydra:\n  overrides:\n    task:\n"
        f"    - ratio={','.join(map(str, ratios))}\n"
        f"    - reg={','.join(regs)}\n"
        f"    - seed={','.join(map(str, seeds))}\n"
    )
    for ratio in ratios:
        for reg in regs:
            for seed in seeds:
                results = fake_results(ratio, reg, seed)
                job = root / results["job"]
                (job / ".hydra").mkdir(parents=True)
                (job / ".hydra" / "overrides.yaml").write_text(
                    "".join(f"- {o}\n" for o in results["overrides"])
                )
                if (ratio, reg, seed) not in skip:
                    (job / "results.json").write_text(json.dumps(results))
    return root


def make_cifar(root: Path, dataset, train_per_class: int, test_per_class: int) -> list[list]:
    """Files in the format of torchvision's `dataset` (CIFAR10 or CIFAR100) under root: pickled
    batches of uint8 rows (3 x 32 x 32, channel-major) and labels, the pixel at channel c, row y
    and column x of an image of class k `cifar_pixel(k, c, y, x)`, and the names file. Returns
    the checksums, [[file, md5], ...] for the training files, then the test files, then the
    names file, which a test patches into torchvision's lists (the only thing of torchvision's
    a test may patch)."""
    import hashlib
    import pickle

    classes = 10 if dataset.base_folder == "cifar-10-batches-py" else 100
    label_key = "labels" if classes == 10 else "fine_labels"
    folder = root / dataset.base_folder
    folder.mkdir(parents=True)

    def write(name: str, content: dict) -> list:
        data = pickle.dumps(content)
        (folder / name).write_bytes(data)
        return [name, hashlib.md5(data).hexdigest()]

    def batch(per_class: int, parts: int) -> list[dict]:
        labels = np.tile(np.arange(classes), per_class)  # interleaved, as CIFAR's batches are
        c, y, x = np.meshgrid(np.arange(3), np.arange(32), np.arange(32), indexing="ij")
        data = cifar_pixel(labels[:, None], c.reshape(1, -1), y.reshape(1, -1), x.reshape(1, -1))
        return [
            {label_key: part_labels.tolist(), "data": part_data}
            for part_labels, part_data in zip(
                np.array_split(labels, parts), np.array_split(data, parts), strict=True
            )
        ]

    train = [entry for entry, _ in dataset.train_list]
    test = [entry for entry, _ in dataset.test_list]
    sums = [
        write(name, part)
        for name, part in zip(train, batch(train_per_class, len(train)), strict=True)
    ]
    sums += [
        write(name, part) for name, part in zip(test, batch(test_per_class, len(test)), strict=True)
    ]
    names = [f"class{c}" for c in range(classes)]
    sums.append(write(dataset.meta["filename"], {dataset.meta["key"]: names}))
    return sums


def cifar_pixel(label, channel, row, column):
    """make_cifar's pixel value: every position of every class tells apart."""
    return ((label + 50 * channel + 3 * row + 5 * column) % 256).astype(np.uint8)
