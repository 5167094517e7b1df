"""What a finished run adds to TensorBoard: its hyperparameters against its final test metrics
(the HPARAMS tab), and its confusion matrix as an image."""

import math

import numpy as np
from lightning.pytorch.loggers import TensorBoardLogger
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay

from imbalance.metrics import summary_names


def log_run_summary(logger: TensorBoardLogger, results: dict) -> None:
    config, choices, test = results["config"], results["choices"], results["test"]
    epochs = len(results["history"])
    params = {
        "data": choices["data"],
        "model": choices["model"],
        "reg": choices["reg"],
        "remedy": choices["remedy"],
        "profile": config["profile"],
        "ratio": config["ratio"],
        "mu": config["mu"],
        "seed": config["seed"],
        "data_seed": config["data"]["seed"],
    }
    names = summary_names(list(results["groups"]))
    # A metric that no class defines (a group without test images) has no point to plot.
    metrics = {f"final/{name}": test[name] for name in names if not math.isnan(test[name])}
    logger.log_hyperparams(params, metrics, step=epochs)

    minority = set(results["minority"])
    labels = [f"{name}*" if name in minority else name for name in results["classes"]]
    size = 2.5 + 0.45 * len(labels)
    figure = Figure(figsize=(size, size), layout="constrained")  # no pyplot: no GUI backend
    axes = figure.subplots()
    ConfusionMatrixDisplay(np.array(test["confusion_matrix"]), display_labels=labels).plot(
        ax=axes, cmap="Blues", colorbar=False, xticks_rotation=45
    )
    axes.set_title(f"{results['job'] or 'run'}: test set, final epoch (* minority)")
    logger.experiment.add_figure("test/confusion_matrix", figure, global_step=epochs, close=False)
