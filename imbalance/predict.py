"""python -m imbalance.predict RUN IMAGES... [--out predictions.csv] [--evaluate]: a finished
run's network applied to new images, exactly as at its test: decoded and resized as its source
decodes files, with its remedy's correction, in its precision.

IMAGES are image files or folders (searched through). The predictions go to --out (CSV), or to
the standard output: one row an image, its path, the predicted class and every class's
probability. With --evaluate, IMAGES is one folder of class folders named as the run's classes:
the run's test metrics for those images (balanced accuracy, per-class recall, the groups'
recall), printed and written beside --out as <out>.json (results.json's `test` keys).
"""

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
import torch

from imbalance.data.sources.folder import ImageFolder, image_types
from imbalance.errors import ConfigError, quoted
from imbalance.metrics import split_values, study_metrics, summary_names
from imbalance.run.results import undefined_as_null
from imbalance.trained import TrainedRun

BATCH = 100  # images decoded and predicted at a time: memory stays bounded in a large folder


def image_paths(places: list[str]) -> list[Path]:
    """The image files among `places` (files, and the images anywhere under folders), in name
    order. Raises ConfigError for a place that does not exist, or no image at all."""
    types, paths = image_types(None), []
    for place in map(Path, places):
        if place.is_dir():
            paths += sorted(p for p in place.rglob("*") if p.suffix.lower() in types)
        elif place.is_file():
            paths.append(place)
        else:
            raise ConfigError(f"{place} does not exist: give image files or folders of them")
    if not paths:
        raise ConfigError(f"no image file in {quoted(places)} (image types: {', '.join(types)})")
    return paths


def predict(run: TrainedRun, paths: list[Path]) -> torch.Tensor:
    """Each image's class probabilities [n, C], BATCH images at a time."""
    chunks = [paths[i : i + BATCH] for i in range(0, len(paths), BATCH)]
    return torch.cat([run.probabilities(run.decode(chunk)) for chunk in chunks])


def table(run: TrainedRun, paths: list[Path], probabilities: torch.Tensor) -> pd.DataFrame:
    chosen = probabilities.argmax(dim=1).tolist()
    frame = pd.DataFrame(probabilities.numpy(), columns=[f"p_{c}" for c in run.class_names])
    frame.insert(0, "class", [run.class_names[i] for i in chosen])
    frame.insert(0, "path", [str(p) for p in paths])
    return frame


def evaluate(run: TrainedRun, folder: str) -> tuple[list[Path], torch.Tensor, dict]:
    """The images of `folder`'s class folders, their probabilities, and the run's test metrics
    of them, as results.json's `test` holds them. Raises ConfigError for a class folder that is
    not one of the run's classes."""
    catalog = ImageFolder().catalog(folder, None)
    unknown = [name for name in catalog.class_names if name not in run.class_names]
    if unknown:
        raise ConfigError(
            f"class folder(s) {quoted(unknown)} of {folder} are not classes of the run (it has: "
            f"{quoted(run.class_names)}); --evaluate takes folders named as the run's classes"
        )
    paths = [Path(p) for p in catalog.paths]
    labels = torch.tensor([run.class_names.index(catalog.class_names[i]) for i in catalog.labels])
    probabilities = predict(run, paths)
    metrics = study_metrics(run.class_names, run.groups)
    metrics.update(probabilities, labels)
    values = {key: value.item() for key, value in metrics.compute().items()}
    return paths, probabilities, split_values(values, run.class_names)


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m imbalance.predict",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run", help="a finished run's directory (its results.json, checkpoint)")
    parser.add_argument("images", nargs="+", help="image files or folders")
    parser.add_argument("--out", type=Path, help="the predictions' CSV (default: the output)")
    parser.add_argument("--evaluate", action="store_true", help="IMAGES: a folder of classes")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = arguments().parse_args(argv)
    try:
        run = TrainedRun.load(args.run)
        if args.evaluate:
            if len(args.images) != 1:
                raise ConfigError("--evaluate takes one folder of class folders")
            paths, probabilities, test = evaluate(run, args.images[0])
        else:
            paths = image_paths(args.images)
            probabilities = predict(run, paths)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    frame = table(run, paths, probabilities)
    if args.out is None:
        frame.to_csv(sys.stdout, index=False)
    else:
        frame.to_csv(args.out, index=False)
        print(f"{len(frame)} predictions -> {args.out}", file=sys.stderr)
    if args.evaluate:
        shown = [name for name in summary_names(list(run.groups)) if name in test]
        print(", ".join(f"{name} {test[name]:.3f}" for name in shown), file=sys.stderr)
        if args.out is not None:
            args.out.with_suffix(".json").write_text(json.dumps(undefined_as_null(test), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
