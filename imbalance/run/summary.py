"""What a finished run adds to TensorBoard: its hyperparameters against its final test metrics
(the HPARAMS tab), and its confusion matrix as an image."""

import functools
import logging
import math

import matplotlib
import numpy as np
from lightning.pytorch.loggers import TensorBoardLogger
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from sklearn.metrics import ConfusionMatrixDisplay

from imbalance.errors import quoted
from imbalance.metrics import summary_names

log = logging.getLogger(__name__)


@functools.cache
def _characters(path: str) -> frozenset[int]:
    return frozenset(FT2Font(path).get_charmap())


@functools.cache
def _installed_fonts() -> list[tuple[str, str]]:
    """(family, file) of every font matplotlib finds, its placeholder font left out."""
    return [
        (font.name, font.fname)
        for font in font_manager.fontManager.ttflist
        if not font.name.startswith("Last Resort")
    ]


def drawable(names: list[str]) -> tuple[list[str], list[str]]:
    """Class names as a figure can draw them, and the font families to draw them with: the
    default font first, then installed fonts that hold the characters it lacks (a CJK font for
    Chinese names, say). A character no installed font holds is written as its code point,
    U+732B, rather than drawn as an empty box, and a warning says which names and what to
    install."""
    default = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))
    families = [matplotlib.rcParams["font.sans-serif"][0]]
    missing = {ord(c) for name in names for c in name} - _characters(default)
    for family, path in _installed_fonts() if missing else []:
        if missing & _characters(path):
            families.append(family)
            missing -= _characters(path)
            if not missing:
                break
    if not missing:
        return names, families
    unshown = [name for name in names if any(ord(c) in missing for c in name)]
    log.warning(
        f"class name(s) {quoted(unshown)} have characters that no installed font draws: the "
        f"confusion matrix writes them as code points (U+...); install a font for their script "
        f"(e.g. Debian's fonts-noto-cjk) to see them drawn"
    )
    shown = ["".join(f"U+{ord(c):04X}" if ord(c) in missing else c for c in n) for n in names]
    return shown, families


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
    title = f"{results['job'] or 'run'}: test set, final epoch (* minority)"
    figure = confusion_figure(np.array(test["confusion_matrix"]), labels, title)
    logger.experiment.add_figure("test/confusion_matrix", figure, global_step=epochs, close=False)


# Up to this many classes a cell holds its count and the figure grows with the classes; past
# it, the counts would be unreadable and the figure tens of megapixels (a natural data set's
# 100 classes): colour only, the figure at the size of NUMBERED_UP_TO classes.
NUMBERED_UP_TO = 25
CELL_INCHES = 0.45


def confusion_figure(matrix: np.ndarray, labels: list[str], title: str) -> Figure:
    """The confusion matrix drawn: counts in the cells up to NUMBERED_UP_TO classes, colour
    only beyond, with tick labels that shrink to fit."""
    labels, families = drawable(labels)
    numbered = len(labels) <= NUMBERED_UP_TO
    size = 2.5 + CELL_INCHES * min(len(labels), NUMBERED_UP_TO)
    figure = Figure(figsize=(size, size), layout="constrained")  # no pyplot: no GUI backend
    axes = figure.subplots()
    ConfusionMatrixDisplay(matrix, display_labels=labels).plot(
        ax=axes,
        cmap="Blues",
        colorbar=not numbered,
        xticks_rotation=90 if not numbered else 45,
        include_values=numbered,
    )
    font_size = 10 if numbered else max(3.0, 10 * NUMBERED_UP_TO / len(labels))
    for label in [*axes.get_xticklabels(), *axes.get_yticklabels()]:
        label.set_fontfamily(families)
        label.set_fontsize(font_size)
    axes.set_title(title)
    return figure
