"""The measuring: each run in a process of its own, timed from outside and by its own
results.json; what is measured goes to `markdown` as a dated section.

`measure` times a preset five ways, (a) to (e) (`python -m imbalance.bench`'s help);
`measure_scale` data larger than memory; `measure_sweep` a sweep with two launchers; `baseline`
is what a child process runs to time one of (b) to (e).
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from imbalance.bench import markdown, scale
from imbalance.bench.presets import BASELINES, GOALS, SWEEPS, overrides
from imbalance.bench.scale import PeakMemory
from imbalance.bench.stats import median_interval, paired_ratios, turn_order
from imbalance.run.results import read_results

# The options a baseline's process is not given.
PARENT_ONLY = "out history baseline sweep jobs repeat skip_naive baseline_epochs".split()


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


def on_gpu(args) -> bool:
    return args.accelerator != "cpu" and torch.cuda.is_available()


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
        if value is not None and key not in PARENT_ONLY
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
    naive = [] if args.skip_naive else baseline_run("naive", work / "naive.log")
    ratios = paired_ratios(runs["a"], runs[GOALS[args.preset][0]])
    return markdown.preset_section(
        args,
        machine(),
        warm,
        cold,
        launched=launched,
        cold_start=cold_start,
        turns=runs,
        naive=naive,
        ratios=ratios,
        interval=median_interval(ratios),
        a_wall=statistics.median(a_walls),
        a_memory=a_memory,
    )


def measure_scale(args) -> str:
    """--scale: for each size, a generated long-tailed folder (`scale.make_folder`) trained on
    by (a) a framework run with its images on disk and (c) a DataLoader decoding every image
    every epoch: images a second and peak anonymous memory, side by side."""
    work = Path(tempfile.mkdtemp(prefix="imbalance-scale-"))
    sizes = []
    for size in args.scale:
        args.data = scale.make_folder(work / f"images{size}", size)
        args.cache = work / f"cache{size}"
        run = work / f"run{size}"
        command = [sys.executable, "-m", "imbalance.train", *overrides(args)]
        _, _, a_memory = run_child([*command, f"hydra.run.dir={run}"], work / f"a{size}.log")
        results = read_results(run)
        images = sum(results["counts"]["train"].values())
        timing = results["timing"]
        # (a)'s first epoch counted with the decoding of every image into the image cache.
        first = timing["data_ready_at"] - timing["job_started_at"] + timing["epochs"][0]
        forwarded = ["--preset=scale", f"--data={args.data}", f"--cache={args.cache}",
                     f"--epochs={args.epochs}", f"--workers={args.workers}",
                     f"--accelerator={args.accelerator}", "--baseline=naive"]  # fmt: skip
        log = work / f"c{size}.log"
        _, _, c_memory = run_child([sys.executable, "-m", "imbalance.bench", *forwarded], log)
        c_seconds = json.loads(log.read_text().strip().splitlines()[-1])
        hashed, stat, size_bytes = scale.key_seconds(args.data)
        sizes.append(
            {
                "size": size,
                "images": images,
                "test_images": sum(results["counts"]["test"].values()),
                "a_rates": [images / first, images / timing["epochs"][-1]],
                "a_memory": a_memory,
                "c_rates": [images / c_seconds[0], images / c_seconds[-1]],
                "c_memory": c_memory,
                "hashed": hashed,
                "stat": stat,
                "bytes": size_bytes,
            }
        )
    return markdown.scale_section(args, machine(), sizes)


def measure_sweep(args) -> str:
    """A sweep as one command, run by Hydra's basic launcher (jobs one after another, each with
    every core's threads) and by the joblib launcher (--jobs processes at once, joblib giving
    each its share of the cores' threads)."""
    from hydra import compose, initialize_config_module

    from imbalance.build import datamodule

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
    measured = []
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
        measured.append(
            {
                "name": name,
                "parallel": bool(launcher),
                "wall": wall,
                "fits": [run["timing"]["fit"] for run in runs],
                "threads": sorted({run["timing"]["torch_threads"] for run in runs}),
                "memory": memory,
            }
        )
    return markdown.sweep_section(args, machine(), axes, decoding, len(runs), measured)
