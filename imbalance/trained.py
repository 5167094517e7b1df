"""A finished run as a model: its network with the weights of its checkpoint, its remedy's head,
change of the classifier and correction of the logits, applied to images as at the run's test
(decoded and resized as its data source decodes files, in the precision it was tested in).
`python -m imbalance.predict` and `python -m imbalance.export` start here."""

import contextlib
import json
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from PIL import Image
from torch import nn

from imbalance.data.sources.catalog import FileCatalog
from imbalance.errors import ConfigError
from imbalance.precision import DOUBLE, weights_in
from imbalance.remedies.remedy import Remedy
from imbalance.run.results import FILENAME, groups, read_results
from imbalance.run.resume import CHECKPOINT, current_targets

# The precisions a run is predicted in as it was tested: float32, float64, bfloat16 autocast.
PRECISIONS = ("32", "32-true", *DOUBLE, "bf16-mixed")


@dataclass
class TrainedRun:
    """`net` and `remedy` with the run's weights, in evaluation mode; the run's `class_names`
    (in label order), class `groups`, `image_size`, input `channels` and `precision`."""

    net: nn.Module
    remedy: Remedy
    class_names: list[str]
    groups: dict[str, list[str]]
    image_size: int
    channels: int
    precision: str

    @classmethod
    def load(cls, run_dir: str | Path) -> "TrainedRun":
        """The run of `run_dir` (its results.json and checkpoint). Raises ConfigError for a
        directory without a finished run or without its checkpoint."""
        run_dir = Path(run_dir)
        if not (run_dir / FILENAME).is_file():
            raise ConfigError(
                f"{run_dir} holds no finished run (no {FILENAME}): give a run's directory, e.g. "
                "outputs/multirun/<sweep>/remedy=none"
            )
        results = read_results(run_dir)
        if "test" not in results:
            raise ConfigError(f"{run_dir} holds a run that did not finish its test (it diverged)")
        checkpoint = run_dir / CHECKPOINT
        if not checkpoint.is_file():
            raise ConfigError(
                f"{checkpoint} is missing: the run's weights are kept there (a run with "
                "trainer.enable_checkpointing=false keeps none); train it again with them"
            )
        try:  # weights_only: tensors, numbers and containers; nothing in it can run code
            saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
            state, trained = saved["state_dict"], len(json.loads(saved["history"]))
        except (RuntimeError, pickle.UnpicklingError, EOFError, KeyError, TypeError) as error:
            raise ConfigError(
                f"{checkpoint} is not a checkpoint of an imbalance run this version reads "
                f"({type(error).__name__}: {' '.join(str(error).split())[:200]})"
            ) from error
        if trained != len(results["history"]):  # a run ended early by a callback of its own
            raise ConfigError(
                f"{checkpoint} holds the weights of epoch {trained}, and the run tested those "
                f"of epoch {len(results['history'])}: its tested weights were not kept"
            )
        cfg = OmegaConf.create(current_targets(results["config"]))
        precision = str(cfg.trainer.precision)
        if precision not in PRECISIONS:
            raise ConfigError(
                f"trainer.precision={precision}: predicting in it is not supported here (it "
                f"supports {', '.join(PRECISIONS)})"
            )
        counts = results["counts"]["train"]
        labels = torch.repeat_interleave(
            torch.arange(len(counts)), torch.tensor(list(counts.values()))
        )
        remedy = Remedy(
            cfg.remedy,
            labels,
            counts,
            cfg.seed,
            cfg.trainer.max_epochs,
            weight_decay=cfg.reg.weight_decay,
            label_smoothing=cfg.reg.label_smoothing,
            has_val=bool(sum(results["counts"].get("val", {}).values())),
        )
        mean = state["net.input.mean"]
        # A torchvision network is built with the weights it named (torchvision's cache, or the
        # file), as its builder shapes some networks by them (googlenet, inception_v3); the
        # checkpoint's weights replace them.
        with weights_in(precision):  # as the run drew them: float64 for a float64 run
            net = instantiate(
                cfg.model,
                in_channels=mean.shape[0],
                input_size=cfg.data.image_size,
                num_classes=len(results["classes"]),
                batch_norm=cfg.reg.batch_norm,
                dropout=cfg.reg.dropout,
                head=remedy.last_layer,
            )
        if precision in DOUBLE:  # every buffer as wide as the run's, before the weights load
            net.double()
            remedy.double()
        remedy.attach(net)
        for prefix, module in (("net.", net), ("remedy.", remedy)):
            module.load_state_dict(
                {
                    key[len(prefix) :]: value
                    for key, value in state.items()
                    if key.startswith(prefix)
                }
            )
        return cls(
            net.eval(),
            remedy.eval(),
            list(results["classes"]),
            groups(results),
            cfg.data.image_size,
            mean.shape[0],
            precision,
        )

    def decode(self, paths: list[str]) -> torch.Tensor:
        """uint8 images [n, channels, size, size] of image files, decoded as the run's file
        sources decode them (`FileCatalog.decode_file`); as PIL's greyscale for a greyscale run."""
        images = []
        for path in paths:
            pixels = FileCatalog.decode_file(str(path), self.image_size)
            if self.channels == 1:
                pixels = np.asarray(Image.fromarray(pixels).convert("L"))[..., None]
            images.append(pixels)
        return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()

    @torch.no_grad()
    def probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """Each class's probability [n, C] for uint8 images [n, channels, size, size]: the
        network's logits, corrected as the run corrected them at its test, then softmax."""
        dtype = torch.float64 if self.precision in DOUBLE else torch.float32
        with self._autocast():
            logits = self.remedy.correct(self.net(images.to(dtype)))
            return logits.float().softmax(dim=1)

    def _autocast(self):
        if self.precision == "bf16-mixed":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def describe(self) -> dict:
        """What the model takes and gives, for the files that carry it elsewhere."""
        return {
            "classes": self.class_names,
            "image_size": self.image_size,
            "channels": self.channels,
            "input": "uint8 pixels 0-255, [n, channels, image_size, image_size]",
            "resize": "PIL bicubic to image_size x image_size, after EXIF orientation",
        }
