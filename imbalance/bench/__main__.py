"""python -m imbalance.bench --preset digits|paper (make bench: both): a preset timed five
ways on this machine.

(a) the framework's run as a user launches it, a whole process (once to fill the image cache,
    then the measured run); (b) the compute floor, (c) the naive pipeline, (d) the floor's loop
    in Lightning's Trainer and (e) in Lightning Fabric, from `imbalance.bench.baselines`, each
    in a process of its own.
    With --sweep (make bench-sweep), instead: a sweep of the preset (the study's 12 runs, or
    every remedy at 15:1) as one command, run by Hydra's basic launcher and by the joblib
    launcher, --jobs at a time. Prints the figures and adds them at the top of BENCHMARKS.md.
"""

import argparse
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from imbalance.bench import scale
from imbalance.bench.scale import PeakMemory
from imbalance.results import read_results


def run_child(command: list[str], log: Path) -> tuple[float, int, int]:
    """Runs `command`, output to `log`; returns its wall time (s), its peak resident memory and
    the peak anonymous memory of its processes, workers included (bytes, `scale.PeakMemory`)."""
    started = time.perf_counter()
    with open(log, "w") as output:
        child = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        with PeakMemory(child.pid) as anonymous:
            # wait4, not wait: it also gives the child's own peak memory.
            _, status, usage = os.wait4(child.pid, 0)
    returncode = os.waitstatus_to_exitcode(status)
    if returncode != 0:
        sys.exit(f"error: {' '.join(command)} failed ({returncode}); see {log}")
    return time.perf_counter() - started, usage.ru_maxrss * 1024, anonymous.bytes


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]  # fmt: skip
        cpu = names[0] if names else cpu
    gpu = f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    threads = torch.get_num_threads()
    return (
        f"{cpu}, {os.cpu_count()} cores ({threads} torch threads){gpu}; torch {torch.__version__}"
    )


# What each preset adds to the defaults: the digits are the defaults.
PRESETS = {
    "digits": lambda args: [],  # in memory already: no image cache
    "paper": lambda args: [
        "experiment=paper",
        f"data.root={args.data}",
        f"data.cache_dir={args.cache}",
    ],
    # CIFAR-10-LT's recipe on images of CIFAR's shapes (imbalance.bench.generated), or on the
    # real CIFAR-10 with --data; --per-class shrinks the training and test sets alike.
    "cifar10_lt": lambda args: [
        "experiment=cifar10_lt",
        *(
            [f"data.root={args.data}"]
            if args.data
            else [
                "data.root=null",
                "data.source._target_=imbalance.bench.generated.CIFARShapes",
                f"+data.source.train_per_class={args.per_class or 5000}",
                f"+data.source.test_per_class={(args.per_class or 5000) // 5}",
            ]
        ),
    ],
    # --scale's generated folders, their images kept on disk.
    "scale": lambda args: [
        "data=folder",
        f"data.root={args.data}",
        "profile=natural",
        "data.in_memory=false",
        f"data.cache_dir={args.cache}",
        f"data.image_size={scale.SIZE}",
        "data.batch_size=64",
        "data.eval_batch_size=256",
    ],
}


def overrides(args, epochs: int | None = None, ratio=None, reg=None) -> list[str]:
    return [
        *PRESETS[args.preset](args),
        *([] if args.preset == "scale" else [f"ratio={ratio or args.ratio}"]),  # natural
        f"reg={reg or args.reg}",
        f"trainer.max_epochs={epochs or args.epochs}",
        f"trainer.accelerator={args.accelerator}",
        f"trainer.precision={args.precision}",
        *([f"data.per_class={args.per_class}"] if args.per_class else []),
    ]


def baseline(args) -> None:
    """In a child process: one baseline's seconds per epoch, as JSON on the last line."""
    from hydra import compose, initialize_config_module

    from imbalance.bench import baselines

    with initialize_config_module("imbalance.conf", version_base="1.3"):
        cfg = compose("train", overrides=overrides(args))
    torch.set_flush_denormal(cfg.flush_denormal)  # as (a) does, before any CPU thread starts
    measured = {
        "floor": baselines.floor,
        "lightning": baselines.lightning_floor,
        "fabric": baselines.fabric_floor,
        "naive": lambda cfg: baselines.naive(cfg, args.workers),
    }
    print(json.dumps(measured[args.baseline](cfg)))


def measure(args) -> str:
    work = Path(tempfile.mkdtemp(prefix="imbalance-bench-"))
    args.cache = args.cache or work / "cache"
    python = [sys.executable, "-m"]
    train = [*python, "imbalance.train", *overrides(args)]
    # (a), cold: fills the image cache; its data preparation is the one-off decoding. One epoch
    # is enough for that.
    cold_start = time.time()
    cold_run = [*python, "imbalance.train", *overrides(args, epochs=1)]
    run_child([*cold_run, f"hydra.run.dir={work / 'cold'}"], work / "cold.log")
    cold = read_results(work / "cold")
    # The baselines may train fewer epochs than (a) (--baseline-epochs): compared per epoch.
    forwarded = [
        f"--{key.replace('_', '-')}={value}"
        for key, value in {**vars(args), "epochs": args.baseline_epochs or args.epochs}.items()
        if value is not None
        and key
        not in ("out", "baseline", "sweep", "jobs", "repeat", "skip_naive", "baseline_epochs")
    ]

    def baseline_run(name: str, log: Path) -> list[float]:
        run_child([*python, "imbalance.bench", *forwarded, f"--baseline={name}"], log)
        return json.loads(log.read_text().strip().splitlines()[-1])

    # (a), as measured: a warm cache, as every job of a sweep but the first finds it. (a), (b),
    # (d) and (e) take turns, --repeat times, each turn in another order (`turn_order`), so that
    # a slow spell of the machine falls on all; the goal pairs the runs of one turn.
    runs = {"a": [], "b": [], "d": [], "e": []}
    a_walls = []
    for turn in range(args.repeat):
        for name in turn_order(turn, list(runs)):
            if name == "a":
                launched = time.time()
                run = work / f"warm{turn}"
                a_wall, a_memory, _ = run_child(
                    [*train, f"hydra.run.dir={run}"], work / f"warm{turn}.log"
                )
                a_walls.append(a_wall)
                warm = read_results(run)
                runs["a"].append(warm["timing"]["epochs"])
            else:
                baseline = BASELINES[name]
                runs[name].append(baseline_run(baseline, work / f"{baseline}{turn}.log"))
    timing, cold_timing = warm["timing"], cold["timing"]
    a_wall = statistics.median(a_walls)
    naive = [] if args.skip_naive else baseline_run("naive", work / "naive.log")
    epochs = {name: [seconds for run in turns for seconds in run] for name, turns in runs.items()}
    median = {name: statistics.median(seconds) for name, seconds in epochs.items()}
    # With fewer --baseline-epochs, (b)'s epochs summed over as many epochs as (a) trained.
    b = sum(epochs["b"]) / args.repeat * args.epochs / (args.baseline_epochs or args.epochs)
    c = sum(naive)
    d, e = sum(epochs["d"]) / args.repeat, sum(epochs["e"]) / args.repeat
    against, goal = GOALS[args.preset]
    ratios = paired_ratios(runs["a"], runs[against])
    paired = statistics.median(ratios)
    interval = median_interval(ratios)
    if interval is None:
        spread = "too few turns for an interval"
    else:
        low, high, coverage = interval
        where = "below" if round(high, 2) <= goal else "above" if round(low, 2) > goal else "around"
        spread = f"{coverage:.0%} interval for it {low:.2f} to {high:.2f}, {where} the goal"

    def per_epoch(values: list[float]) -> str:
        ms = statistics.median(values) < 1  # small images: milliseconds tell more
        show = (lambda v: f"{v * 1000:.1f} ms") if ms else (lambda v: f"{v:.2f} s")
        return (
            f"median {show(statistics.median(values))}, first {show(values[0])}, "
            f"last {show(values[-1])}, max {show(max(values))}"
        )

    return "\n".join(
        [
            f"## {time.strftime('%Y-%m-%d')}: {machine()}",
            "",
            f"`python -m imbalance.bench --preset={args.preset} --epochs={args.epochs} "
            f"--ratio={args.ratio} --reg={args.reg} --accelerator={args.accelerator} "
            f"--workers={args.workers} --repeat={args.repeat} --precision={args.precision}"
            f"{f' --baseline-epochs={args.baseline_epochs}' if args.baseline_epochs else ''}"
            f"{f' --per-class={args.per_class}' if args.per_class else ''}"
            f"{' --skip-naive' if args.skip_naive else ''}` ({args.preset} preset, "
            f"{sum(warm['counts']['train'].values())} training and "
            f"{sum(warm['counts']['test'].values())} test images of "
            f"{warm['config']['data']['image_size']} pixels a side, "
            f"batch {warm['config']['data']['batch_size']}).",
            "",
            "| | wall | per epoch (test pass included) |",
            "|---|---|---|",
            f"| (a) framework, whole process, warm cache | {a_wall:.1f} s "
            f"| {per_epoch(epochs['a'])} |",
            f"| (b) bare PyTorch loop, tensors in memory | {b:.1f} s (epochs only"
            f"{', as many as (a) trains' if args.baseline_epochs else ''}) "
            f"| {per_epoch(epochs['b'])} |",
            f"| (c) DataLoader decoding with PIL every epoch, plain Lightning, "
            f"{args.workers} workers "
            + (f"| {c:.1f} s (epochs only) | {per_epoch(naive)} |" if naive else "| not run | |"),
            f"| (d) the loop of (b) in Lightning's Trainer, a module with only the loss "
            f"| {d:.1f} s (epochs only) | {per_epoch(epochs['d'])} |",
            f"| (e) the loop of (b) in Lightning Fabric "
            f"| {e:.1f} s (epochs only) | {per_epoch(epochs['e'])} |",
            "",
            f"- **goal, per epoch, (a) over ({against}) in the same turn:** the median of "
            f"{len(ratios)} turn{'s' * (len(ratios) > 1)} {paired:.2f} (goal <= {goal:.2f}: "
            f"{'met' if round(paired, 2) <= goal else 'missed'}); {spread}; each turn "
            f"{', '.join(f'{ratio:.2f}' for ratio in ratios)}",
            f"- a/b = {a_wall / b:.2f}; per epoch, over every turn's epochs, median (a) / median "
            f"(b) = {median['a'] / median['b']:.2f}"
            + (f"; c/a = {c / a_wall:.2f}" if naive else ""),
            f"- per epoch, Lightning's own loop: median (d) / median (b) = "
            f"{median['d'] / median['b']:.2f}; the framework over it: median (a) / median (d) = "
            f"{median['a'] / median['d']:.2f}; the leanest loop on Lightning: median (e) / "
            f"median (b) = {median['e'] / median['b']:.2f}",
            f"- start-up of (a), launch to data ready: {timing['data_ready_at'] - launched:.1f} s "
            f"with a warm cache; data preparation inside it "
            f"{timing['data_ready_at'] - timing['job_started_at']:.1f} s "
            f"(cold cache: {cold_timing['data_ready_at'] - cold_timing['job_started_at']:.1f} s, "
            f"launch to data ready {cold_timing['data_ready_at'] - cold_start:.1f} s)",
            f"- peak resident memory of (a): {a_memory / 2**30:.2f} GiB",
            "",
        ]
    )


def measure_scale(args) -> str:
    """--scale: for each size, a generated long-tailed folder (`scale.make_folder`) trained on
    by (a) a framework run with its images on disk and (c) a DataLoader decoding every image
    every epoch: images a second and peak anonymous memory, side by side."""
    work = Path(tempfile.mkdtemp(prefix="imbalance-scale-"))
    rows, anonymous, keys = [], {}, []
    for size in args.scale:
        args.data = scale.make_folder(work / f"images{size}", size)
        args.cache = work / f"cache{size}"
        run = work / f"run{size}"
        command = [sys.executable, "-m", "imbalance.train", *overrides(args)]
        _, _, anonymous[size] = run_child([*command, f"hydra.run.dir={run}"], work / f"a{size}.log")
        results = read_results(run)
        images = sum(results["counts"]["train"].values())
        timing = results["timing"]
        decoding = timing["data_ready_at"] - timing["job_started_at"]
        a_rates = [images / (decoding + timing["epochs"][0]), images / timing["epochs"][-1]]
        forwarded = ["--preset=scale", f"--data={args.data}", f"--cache={args.cache}",
                     f"--epochs={args.epochs}", f"--workers={args.workers}",
                     f"--accelerator={args.accelerator}", "--baseline=naive"]  # fmt: skip
        log = work / f"c{size}.log"
        _, _, c_anonymous = run_child([sys.executable, "-m", "imbalance.bench", *forwarded], log)
        c_seconds = json.loads(log.read_text().strip().splitlines()[-1])
        c_rates = [images / c_seconds[0], images / c_seconds[-1]]
        hashed, stat, size_bytes = scale.key_seconds(args.data)
        keys.append(
            f"- {size:,} files ({size_bytes / 2**20:,.0f} MiB): the cache's keys (sha256 of "
            f"the bytes) {hashed:.2f} s, a stat of each {stat:.2f} s"
        )
        rows.append(
            f"| {images + sum(results['counts']['test'].values()):,} ({images:,} training) "
            f"| {a_rates[0]:,.0f} | {a_rates[1]:,.0f} | {anonymous[size] / 2**20:,.0f} MiB "
            f"| {c_rates[0]:,.0f} | {c_rates[1]:,.0f} | {c_anonymous / 2**20:,.0f} MiB |"
        )
    smallest, largest = min(args.scale), max(args.scale)
    return "\n".join(
        [
            f"## {time.strftime('%Y-%m-%d')}: data larger than memory, {machine()}",
            "",
            f"`python -m imbalance.bench --scale={','.join(map(str, args.scale))} "
            f"--epochs={args.epochs} --workers={args.workers}`: generated long-tailed folders "
            f"({scale.CLASSES} classes, ratio {scale.RATIO}, {scale.SIZE}-pixel JPEGs), the "
            "compact network, each epoch's test pass included. (a) a framework run, "
            "`profile=natural data.in_memory=false`, its first epoch counted with the decoding "
            "of every image into the image cache; (c) a DataLoader whose workers decode every "
            f"image every epoch ({args.workers} workers), plain Lightning. Training images a "
            "second; peak anonymous memory of all the run's processes (the sum of their Pss_Anon: "
            "pages forked workers share with their parent counted once).",
            "",
            "| images | (a) first epoch | (a) later | (a) memory | (c) first | (c) later "
            "| (c) memory |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"- (a)'s memory at {largest:,} over {smallest:,} images: "
            f"{anonymous[largest] / anonymous[smallest]:.2f} (goal <= 1.10)",
            "",
            "What keying the image cache on every file's bytes costs a run, page cache warm "
            "(the files read once before; `scale.key_seconds`):",
            "",
            *keys,
            "",
        ]
    )


# The sweeps --sweep times: the study's 12 runs (make train, make paper) and every remedy at
# the largest ratio.
SWEEPS = {
    "study": {"ratio": "1,3,7,15", "reg": "none,full,norm"},
    "remedies": {"ratio": "15", "remedy": "glob(*)"},
}
# Per epoch, the framework over the loop it is held to: for the digits, whose small steps show
# what any loop costs per step, Lightning's Trainer with only the loss (d); else the bare loop.
GOALS = {"digits": ("d", 1.10), "paper": ("b", 1.05), "cifar10_lt": ("b", 1.10)}
# The baselines' names, by the letter of their rows.
BASELINES = {"b": "floor", "d": "lightning", "e": "fabric"}


def turn_order(turn: int, runs: list[str]) -> list[str]:
    """The order in which turn `turn` (from 0) runs `runs`: a Williams design, so that over
    len(runs) turns (an even number of runs) each run takes each place once and follows each
    other run once: whatever a run leaves behind (a page cache to write back, a warm CPU)
    falls on each of the others alike."""
    n = len(runs)
    first = [0] + [(i + 1) // 2 if i % 2 else n - i // 2 for i in range(1, n)]
    return [runs[(place + turn) % n] for place in first]


def median_interval(values: list[float], level: float = 0.9) -> tuple[float, float, float] | None:
    """A distribution-free interval for the median of `values`: the k-th smallest and the k-th
    largest, for the largest k whose coverage (a binomial sum) is at least `level`; with that
    coverage. None when even the smallest and the largest cover less than `level`."""
    n, ordered = len(values), sorted(values)
    best = None
    for k in range(1, n // 2 + 1):
        coverage = 1 - 2 * sum(math.comb(n, i) for i in range(k)) / 2**n
        if coverage < level:
            break
        best = (ordered[k - 1], ordered[n - k], coverage)
    return best


def paired_ratios(numerator: list[list[float]], denominator: list[list[float]]) -> list[float]:
    """For each turn, the median epoch of one run over the median epoch of the other run of
    the same turn (lists of epoch times, a list per turn)."""
    return [
        statistics.median(top) / statistics.median(bottom)
        for top, bottom in zip(numerator, denominator, strict=True)
    ]


def measure_sweep(args) -> str:
    """A sweep as one command, run by Hydra's basic launcher (jobs one after another, each with
    every core's threads) and by the joblib launcher (--jobs processes at once, joblib giving
    each its share of the cores' threads)."""
    from hydra import compose, initialize_config_module

    from imbalance.train import datamodule

    axes = SWEEPS[args.sweep]
    work = Path(tempfile.mkdtemp(prefix="imbalance-bench-sweep-"))
    args.cache = args.cache or work / "cache"
    # A warm cache, as every sweep after the first finds it: decode every ratio's images now.
    decoding = time.perf_counter()
    with initialize_config_module("imbalance.conf", version_base="1.3"):
        for ratio in axes["ratio"].split(","):
            cfg = compose("train", overrides=overrides(args, ratio=ratio))
            datamodule(cfg).setup()
    decoding = time.perf_counter() - decoding
    extra = [f"{key}={value}" for key, value in axes.items() if key not in ("ratio", "reg")]
    launchers = {
        "basic": [],
        "joblib": ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={args.jobs}"],
    }
    lines = []
    for name, launcher in launchers.items():
        command = [
            *[sys.executable, "-m", "imbalance.train", "-m"],
            *overrides(args, ratio=axes["ratio"], reg=axes.get("reg")),
            *extra,
            *launcher,
            f"hydra.sweep.dir={work / name}",
        ]
        wall, memory, _ = run_child(command, work / f"{name}.log")
        runs = [read_results(path.parent) for path in (work / name).glob("*/results.json")]
        started = len(list((work / name).glob("*/.hydra")))
        if len(runs) != started:
            sys.exit(f"error: {len(runs)} of the sweep's {started} jobs wrote results; see {work}")
        fits = [run["timing"]["fit"] for run in runs]
        threads = sorted({run["timing"]["torch_threads"] for run in runs})
        lines.append(
            f"| {name}{f', {args.jobs} jobs at once' if launcher else ''} | {wall:.1f} s "
            f"| {statistics.median(fits):.1f} s (max {max(fits):.1f}) "
            f"| {', '.join(map(str, threads))} | {memory / 2**30:.2f} GiB |"
        )
    described = " ".join(f"{key}={value}" for key, value in axes.items())
    return "\n".join(
        [
            f"## {time.strftime('%Y-%m-%d')}: the {args.sweep} sweep of the {args.preset} preset, "
            f"{machine()}",
            "",
            f"`python -m imbalance.bench --preset={args.preset} --sweep={args.sweep} "
            f"--jobs={args.jobs} --epochs={args.epochs} --accelerator={args.accelerator}`: "
            f"`{described}`, {len(runs)} jobs of {args.epochs} epochs (image cache warmed first: "
            f"{decoding:.1f} s).",
            "",
            "| launcher | wall, whole command | training per job (fit) | torch threads per job "
            "| peak memory, largest process |",
            "|---|---|---|---|---|",
            *lines,
            "",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m imbalance.bench", description=__doc__)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="paper")
    parser.add_argument(
        "--data",
        help="Caltech101's root for paper (../shared/data/caltech101 by default); CIFAR-10's for "
        "cifar10_lt (images of CIFAR's shapes generated by default)",
    )
    parser.add_argument(
        "--epochs", type=int, help="50 for digits, 10 for paper, 3 for cifar10_lt, 2 with --scale"
    )
    parser.add_argument(
        "--baseline-epochs",
        type=int,
        help="epochs of (b) to (e), compared with (a) per epoch (default: --epochs); fewer keep "
        "a 200-epoch measurement of (a) short",
    )
    parser.add_argument("--ratio", help="1 by default; 100 for cifar10_lt")
    parser.add_argument("--reg", help="none by default; long_tail for cifar10_lt")
    parser.add_argument(
        "--precision", default="32-true", help="trainer.precision of every run, e.g. bf16-mixed"
    )
    parser.add_argument(
        "--skip-naive", action="store_true", help="leave out (c), the slowest, e.g. on a GPU"
    )
    parser.add_argument(
        "--per-class",
        type=int,
        help="images per class at 1:1, or of the largest class for cifar10_lt, whose generated "
        "test set then has a fifth as many a class (the preset's by default): more steps an "
        "epoch show what a step costs apart from what an epoch costs",
    )
    parser.add_argument("--accelerator", default="auto")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers of (c)")
    parser.add_argument("--cache", help="image cache of (a) (default: a new, empty one)")
    parser.add_argument(
        "--repeat",
        type=int,
        help="turns of (a), (b), (d) and (e), each turn in another order (default: 8 for digits "
        "and paper, 2 for cifar10_lt); the goal is the median over turns of (a) over its "
        "baseline in the same turn, the other figures are over all epochs, walls the median "
        "run's",
    )
    parser.add_argument(
        "--sweep",
        nargs="?",
        const="study",
        choices=sorted(SWEEPS),
        help="time a sweep instead, with the basic and the joblib launchers: the study's 12 "
        "runs (the default) or every remedy at 15:1",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count(),
        help="jobs at once with the joblib launcher in --sweep (default: one per core)",
    )
    parser.add_argument(
        "--scale",
        type=lambda text: [int(size) for size in text.split(",")],
        help="time data larger than memory instead, on generated folders of these many images, "
        "e.g. 20000,100000 (2 epochs unless --epochs)",
    )
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"))
    parser.add_argument(
        "--baseline", choices=["floor", "lightning", "fabric", "naive"], help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.scale:
        args.preset = "scale"
    cifar = args.preset == "cifar10_lt"
    # Many short turns rather than a few long ones: a turn's runs then lie close in time.
    preset = args.preset
    args.epochs = args.epochs or {"digits": 50, "paper": 10, "scale": 2, "cifar10_lt": 3}[preset]
    args.repeat = args.repeat or {"digits": 8, "paper": 8, "scale": 1, "cifar10_lt": 2}[preset]
    args.ratio = args.ratio or ("100" if cifar else "1")
    args.reg = args.reg or ("long_tail" if cifar else "none")
    if args.preset == "paper":
        args.data = args.data or "../shared/data/caltech101"
    if args.baseline:
        return baseline(args)
    if args.scale:
        section = measure_scale(args)
    else:
        section = measure_sweep(args) if args.sweep else measure(args)
    print(section)
    title = (
        "# Benchmarks\n\nNewest first; `make bench` adds a section. a/b is the whole-process "
        "wall time of (a), start-up included, over the summed epoch times of (b); c/a is the "
        "summed epoch times of (c) over the whole-process wall time of (a): both are "
        "conservative for the framework. (d), since the evening of 2026-11-29, is (b)'s loop in "
        "Lightning's Trainer, what Lightning alone costs; (e), since the night of 2026-11-29, the "
        "same loop in Lightning Fabric, the leanest loop built on Lightning. The goals are per "
        "epoch, the framework over (b), or over (d) for the digits. A section with a **goal** "
        "line pairs the runs of a turn: each turn's median epoch of (a) over the same turn's of "
        "(b) or (d), and the goal is met by the median of those turns; earlier sections compare "
        "the median epochs of all turns together.\n\n"
    )
    document = args.out.read_text() if args.out.exists() else title
    args.out.write_text(with_section(document, section))


def with_section(document: str, section: str) -> str:
    """BENCHMARKS.md with `section` as its newest dated section: after the title and the
    undated sections that explain the figures, before the dated ones."""
    newest = re.search(r"^## \d{4}-\d{2}-\d{2}", document, flags=re.MULTILINE)
    at = newest.start() if newest else len(document)
    return document[:at] + section + "\n" + document[at:]


if __name__ == "__main__":
    main()
