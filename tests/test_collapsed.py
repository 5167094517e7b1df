"""Runs that learned nothing are flagged with their likely cause (imbalance/report/collapsed.py)."""

from imbalance.report.collapsed import collapsed_runs

CLASSES = [f"c{i}" for i in range(10)]


def run(job: str, balanced: float, losses: list[float], zero_recall: int = 0) -> dict:
    recall = {c: (0.0 if i < zero_recall else balanced) for i, c in enumerate(CLASSES)}
    return {
        "job": job,
        "classes": CLASSES,
        "counts": {"test": dict.fromkeys(CLASSES, 10)},
        "test": {"balanced_acc": balanced, "recall": recall},
        "history": [{"train_loss": loss} for loss in losses],
    }


def test_a_run_near_chance_or_far_below_its_seeds_is_flagged_with_its_likely_cause():
    runs = [
        run("remedy=a,seed=0", 0.80, [2.3, 0.4]),
        run("remedy=a,seed=1", 0.82, [2.3, 0.3]),
        run("remedy=a,seed=2", 0.15, [2.30, 2.25]),  # 10 classes: chance 0.1, flagged below 0.19
        run("remedy=b,seed=0", 0.80, [2.3, 0.2]),
        run("remedy=b,seed=1", 0.78, [2.3, 0.2]),
        run("remedy=b,seed=2", 0.50, [2.3, 0.1], zero_recall=4),  # 0.29 below the others' 0.79
        run("remedy=c,seed=0", 0.80, [2.3, 0.2]),
        run("remedy=c,seed=1", 0.82, [2.3, 0.2]),
        run("remedy=c,seed=2", 0.70, [2.3, 0.2]),  # 0.11 below: a seed's spread, not flagged
    ]
    settings = [job.split(",")[0] for job in (r["job"] for r in runs)]
    flagged = collapsed_runs(runs, settings)
    assert len(flagged) == 2
    assert flagged[0].startswith(
        "remedy=a,seed=2: balanced accuracy 0.150, near chance (0.100 for 10 classes); its "
        "training loss hardly fell (2.300 to 2.250): too few "
        "steps (an undersampled epoch, a short schedule) or a learning rate wrong"
    )
    assert flagged[1].startswith(
        "remedy=b,seed=2: balanced accuracy 0.500, far below its other seeds' (median 0.790); "
        "its training loss fell (2.300 to 0.100) but 4 of its 10 classes have test recall 0"
    )


def test_two_seeds_do_not_say_which_of_them_collapsed():
    runs = [run("seed=0", 0.8, [2.3, 0.2]), run("seed=1", 0.4, [2.3, 0.2])]
    assert collapsed_runs(runs, ["", ""]) == []
