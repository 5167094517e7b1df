"""Runs that learned nothing, named with their likely cause: a run whose test balanced accuracy is
near chance (within NEAR_CHANCE of the way from chance, 1 / the classes tested, to 1), or far
below the runs of its setting with other seeds (more than FAR_BELOW under their median). Its
training history says why: a training loss that hardly fell points at too few steps or the
learning rate; one that fell, while the test predictions fall on few classes, at a network that
fits its training images and nothing else."""

import statistics

from imbalance.run.results import test_metric

NEAR_CHANCE = 0.1  # of the way from chance to a perfect balanced accuracy
FAR_BELOW = 0.2  # balanced accuracy under the median of the setting's other seeds
HARDLY_FELL = 0.9  # the last epoch's training loss over the first's, at or above which


def collapsed_runs(runs: list[dict], settings: list[str]) -> list[str]:
    """One line per run of `runs` that learned nothing: its job, its balanced accuracy, against
    what, and the likely cause. `settings[i]` is run i's setting (its values but the seeds):
    runs of one setting are each other's seeds."""
    lines = []
    for i, run in enumerate(runs):
        value = test_metric(run, "balanced_acc")
        tested = [c for c in run["classes"] if run["counts"]["test"].get(c, 0)]
        chance = 1 / max(len(tested), 1)
        siblings = [
            test_metric(other, "balanced_acc")
            for j, other in enumerate(runs)
            if j != i and settings[j] == settings[i]
        ]
        siblings = [v for v in siblings if v == v]  # NaN: not compared
        if value != value or "diverged" in run:  # the report names diverged runs already
            continue
        if value < chance + NEAR_CHANCE * (1 - chance):
            against = f"near chance ({chance:.3f} for {len(tested)} classes)"
        elif len(siblings) >= 2 and value < statistics.median(siblings) - FAR_BELOW:
            against = f"far below its other seeds' (median {statistics.median(siblings):.3f})"
        else:
            continue
        lines.append(f"{run['job'] or 'the run'}: balanced accuracy {value:.3f}, {against}; "
                     f"{likely_cause(run, tested)}")  # fmt: skip
    return lines


def likely_cause(run: dict, tested: list[str]) -> str:
    losses = [epoch["train_loss"] for epoch in run["history"] if epoch.get("train_loss")]
    if len(losses) >= 2 and losses[-1] >= HARDLY_FELL * losses[0]:
        return (
            f"its training loss hardly fell ({losses[0]:.3f} to {losses[-1]:.3f}): too few "
            "steps (an undersampled epoch, a short schedule) or a learning rate wrong for this "
            "setting, most often too high; try more epochs, or a rate picked on validation: "
            "python -m imbalance.tune ... '+remedy.grid.optim.lr=[0.001,0.003,0.01]'"
        )
    recall = run["test"].get("recall", {})
    never = [c for c in tested if recall.get(c) == 0]
    fell = f" ({losses[0]:.3f} to {losses[-1]:.3f})" if len(losses) >= 2 else ""
    return (
        f"its training loss fell{fell} but {len(never)} of its {len(tested)} classes have test "
        "recall 0: it fits its training images and little else (too few images or steps for "
        "this setting, or too little regularization: try reg=full, or more epochs)"
    )
