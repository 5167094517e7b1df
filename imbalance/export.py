"""python -m imbalance.export RUN [--out model.pt2]: a finished run as one file that runs with
torch alone (`torch.export`): its network, its remedy's change of the classifier and correction
of the logits; the class names and the input it takes in the file's `imbalance.json`.

    files = {"imbalance.json": ""}
    model = torch.export.load("model.pt2", extra_files=files).module()
    probabilities = model(pixels)   # uint8 or float 0-255 [n, channels, size, size]
    json.loads(files["imbalance.json"])["classes"]

Resize images to the run's size first (`python -m imbalance.predict` decodes files exactly as
the run did: PIL, bicubic). The file computes in float32 (float64 for a run in float64): a run
tested in bfloat16 gives probabilities within bfloat16's precision of its own.
"""

import argparse
import json
import sys
import warnings
from pathlib import Path

import torch
from torch import nn

from imbalance.errors import ConfigError
from imbalance.trained import DOUBLE, TrainedRun

DESCRIPTION = "imbalance.json"  # the extra file with the classes and the input


class Probabilities(nn.Module):
    """Each class's probability [n, C] of pixels 0-255 [n, channels, size, size], as the run
    evaluates them: its network, its remedy's correction, softmax."""

    def __init__(self, run: TrainedRun):
        super().__init__()
        self.net, self.remedy = run.net, run.remedy
        self.dtype = torch.float64 if run.precision in DOUBLE else torch.float32

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.remedy.correct(self.net(pixels.to(self.dtype))).softmax(dim=1)


def export(run: TrainedRun, path: Path) -> Path:
    """`run` into `path`, any number of images a call."""
    example = torch.zeros(2, run.channels, run.image_size, run.image_size, dtype=torch.uint8)
    program = torch.export.export(
        Probabilities(run).eval(),
        (example,),
        dynamic_shapes={"pixels": {0: torch.export.Dim.AUTO}},
    )
    with warnings.catch_warnings():  # torch's note on tensors that share storage; they load
        warnings.filterwarnings("ignore", "No complete tensor found in the group")
        torch.export.save(program, path, extra_files={DESCRIPTION: json.dumps(run.describe())})
    return path


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m imbalance.export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run", help="a finished run's directory (its results.json, checkpoint)")
    parser.add_argument("--out", type=Path, default=Path("model.pt2"), help="default: model.pt2")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = arguments().parse_args(argv)
    try:
        run = TrainedRun.load(args.run)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    export(run, args.out)
    print(f"{args.run} -> {args.out} ({len(run.class_names)} classes, {run.image_size} pixels)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
