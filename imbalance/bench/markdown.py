"""What `python -m imbalance.bench` measured, as Markdown: a dated section per sitting, which
goes at the top of docs/benchmarks-history.md (`with_section`), and in BENCHMARKS.md in place
of the current figures of its preset, sweep or --scale (`with_current`)."""

import re
import statistics
import time

from imbalance.bench import scale
from imbalance.bench.presets import GOALS

# A file that does not exist yet starts as these.
BENCHMARKS = (
    "# Benchmarks\n\nThe newest figures of each preset; every sitting, dated, is in "
    "[docs/benchmarks-history.md](docs/benchmarks-history.md).\n\n"
)
HISTORY = (
    "# Benchmarks: every sitting\n\nNewest first; `python -m imbalance.bench` adds a section "
    "here and puts its figures in [BENCHMARKS.md](../BENCHMARKS.md).\n\n"
)
# BENCHMARKS.md's section of the current figures: a `### ` heading each (`title`).
CURRENT = "## Current figures"


def title(args, gpu: bool) -> str:
    """The heading of the current figures a measurement replaces: one per preset, per sweep
    of a preset and for --scale, those measured on a GPU apart."""
    if args.scale:
        what = "data larger than memory"
    else:
        what = f"{args.preset} preset{f', {args.sweep} sweep' if args.sweep else ''}"
    return f"{what}{', on a GPU' if gpu else ''}"


def today() -> str:
    return time.strftime("%Y-%m-%d")


def preset_section(
    args,
    machine: str,
    warm: dict,
    cold: dict,
    *,
    launched: float,
    cold_start: float,
    turns: dict[str, list[list[float]]],
    naive: list[float],
    ratios: list[float],
    interval: tuple[float, float, float] | None,
    a_wall: float,
    a_memory: int,
) -> str:
    """A preset timed five ways: `warm` and `cold` are (a)'s results.json, `turns` each turn's
    epoch times of (a), (b), (d) and (e), `naive` (c)'s, `ratios` each turn's (a) over its goal's
    baseline and `interval` the interval for their median (`stats.median_interval`)."""
    epochs = {name: [seconds for run in runs for seconds in run] for name, runs in turns.items()}
    median = {name: statistics.median(seconds) for name, seconds in epochs.items()}
    # With fewer --baseline-epochs, (b)'s epochs summed over as many epochs as (a) trained.
    b = sum(epochs["b"]) / args.repeat * args.epochs / (args.baseline_epochs or args.epochs)
    c = sum(naive)
    d, e = sum(epochs["d"]) / args.repeat, sum(epochs["e"]) / args.repeat
    against, goal = GOALS[args.preset]
    paired = statistics.median(ratios)
    if interval is None:
        spread = "too few turns for an interval"
    else:
        low, high, coverage = interval
        where = "below" if round(high, 2) <= goal else "above" if round(low, 2) > goal else "around"
        spread = f"{coverage:.0%} interval for it {low:.2f} to {high:.2f}, {where} the goal"
    timing, cold_timing = warm["timing"], cold["timing"]

    def per_epoch(values: list[float]) -> str:
        ms = statistics.median(values) < 1  # small images: milliseconds tell more
        show = (lambda v: f"{v * 1000:.1f} ms") if ms else (lambda v: f"{v:.2f} s")
        return (
            f"median {show(statistics.median(values))}, first {show(values[0])}, "
            f"last {show(values[-1])}, max {show(max(values))}"
        )

    return "\n".join(
        [
            f"## {today()}: {machine}",
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


def scale_section(args, machine: str, sizes: list[dict]) -> str:
    """--scale: a dict per size of its folder, from `runner.measure_scale`."""
    rows = [
        f"| {size['images'] + size['test_images']:,} ({size['images']:,} training) "
        f"| {size['a_rates'][0]:,.0f} | {size['a_rates'][1]:,.0f} "
        f"| {size['a_memory'] / 2**20:,.0f} MiB "
        f"| {size['c_rates'][0]:,.0f} | {size['c_rates'][1]:,.0f} "
        f"| {size['c_memory'] / 2**20:,.0f} MiB |"
        for size in sizes
    ]
    keys = [
        f"- {size['size']:,} files ({size['bytes'] / 2**20:,.0f} MiB): the cache's keys (sha256 "
        f"of the bytes) {size['hashed']:.2f} s, a stat of each {size['stat']:.2f} s"
        for size in sizes
    ]
    smallest = min(sizes, key=lambda size: size["size"])
    largest = max(sizes, key=lambda size: size["size"])
    return "\n".join(
        [
            f"## {today()}: data larger than memory, {machine}",
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
            f"- (a)'s memory at {largest['size']:,} over {smallest['size']:,} images: "
            f"{largest['a_memory'] / smallest['a_memory']:.2f} (goal <= 1.10)",
            "",
            "What keying the image cache on every file's bytes costs a run, page cache warm "
            "(the files read once before; `scale.key_seconds`):",
            "",
            *keys,
            "",
        ]
    )


def sweep_section(
    args, machine: str, axes: dict, decoding: float, jobs: int, launchers: list[dict]
) -> str:
    """--sweep: `jobs` jobs of each launcher, a dict per launcher from `runner.measure_sweep`."""
    lines = [
        f"| {launcher['name']}{f', {args.jobs} jobs at once' if launcher['parallel'] else ''} "
        f"| {launcher['wall']:.1f} s "
        f"| {statistics.median(launcher['fits']):.1f} s (max {max(launcher['fits']):.1f}) "
        f"| {', '.join(map(str, launcher['threads']))} | {launcher['memory'] / 2**30:.2f} GiB |"
        for launcher in launchers
    ]
    described = " ".join(f"{key}={value}" for key, value in axes.items())
    return "\n".join(
        [
            f"## {today()}: the {args.sweep} sweep of the {args.preset} preset, {machine}",
            "",
            f"`python -m imbalance.bench --preset={args.preset} --sweep={args.sweep} "
            f"--jobs={args.jobs} --epochs={args.epochs} --accelerator={args.accelerator}`: "
            f"`{described}`, {jobs} jobs of {args.epochs} epochs (image cache warmed first: "
            f"{decoding:.1f} s).",
            "",
            "| launcher | wall, whole command | training per job (fit) | torch threads per job "
            "| peak memory, largest process |",
            "|---|---|---|---|---|",
            *lines,
            "",
        ]
    )


def with_current(document: str, title: str, section: str) -> str:
    """BENCHMARKS.md with `section` (a dated `## ` section) as the current figures headed
    `### title`: in place of the figures of that title, or after the last current figures."""
    heading, body = section.strip("\n").split("\n\n", 1)
    block = f"### {title}\n\n*{heading.removeprefix('## ')}*\n\n{body}\n\n"
    figures = re.compile(rf"^### {re.escape(title)}\n.*?(?=^##|\Z)", re.MULTILINE | re.DOTALL)
    if figures.search(document):
        return figures.sub(lambda _: block, document, count=1).rstrip("\n") + "\n"
    if f"\n{CURRENT}\n" not in document:
        document = f"{document.rstrip()}\n\n{CURRENT}\n\n"
    after = document.index(f"\n{CURRENT}\n") + len(CURRENT) + 2
    following = re.compile(r"^## ", re.MULTILINE).search(document, after)
    at = following.start() if following else len(document)
    return (document[:at].rstrip("\n") + "\n\n" + block + document[at:]).rstrip("\n") + "\n"


def with_section(document: str, section: str) -> str:
    """The history with `section` as its newest dated section: after the title and the undated
    sections that explain the figures, before the dated ones."""
    newest = re.search(r"^## \d{4}-\d{2}-\d{2}", document, flags=re.MULTILINE)
    at = newest.start() if newest else len(document)
    return document[:at] + section + "\n" + document[at:]
