"""python -m imbalance.splits [overrides] [--out FILE]: the splits that a run's config makes,
without training or decoding an image.

Prints each class's images in the train, validation and test splits, its group, the data's
imbalance (the largest training class over the smallest), the splits' sha256, the batch and the
rate (one process's), which the run's log and results.json will show. With --out, writes the
manifest that `data.manifest=FILE` trains on: the same `splits` as a results.json, with the
config that made them. Check a subset before spending hours of training on it.
"""

import argparse
import json
import sys
from pathlib import Path

from hydra import compose, initialize_config_module
from hydra.errors import HydraException
from omegaconf import DictConfig

from imbalance.build import at_batch, batch_rule, datamodule
from imbalance.checks import check_config, hydras_refusal
from imbalance.data.datamodule import SPLITS, ImbalancedDataModule
from imbalance.data.subsets import imbalance_label
from imbalance.errors import ConfigError
from imbalance.run.results import atomic_write, run_config


def compose_run(overrides: list[str]) -> DictConfig:
    """The config of `python -m imbalance.train OVERRIDES`."""
    with initialize_config_module("imbalance.conf", version_base="1.3"):
        return compose("train", overrides=overrides)


def split_counts(data: ImbalancedDataModule) -> dict:
    """{split: {class: images}}, from the run's manifest (`data.splits`)."""
    return {split: {name: len(ids) for name, ids in data.splits[split].items()} for split in SPLITS}


def table(data: ImbalancedDataModule, counts: dict) -> str:
    group_of = {name: group for group, names in data.groups.items() for name in names}
    lines = ["| class | group | train | val | test |", "|---|---|---|---|---|"]
    for name in data.class_names:
        cells = [name, group_of.get(name, "-"), *(str(counts[s][name]) for s in SPLITS)]
        lines.append("| " + " | ".join(cells) + " |")
    totals = [str(sum(counts[s].values())) for s in SPLITS]
    lines.append("| all | | " + " | ".join(totals) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m imbalance.splits", description=__doc__)
    parser.add_argument(
        "overrides", nargs="*", help="the run's overrides, as python -m imbalance.train takes them"
    )
    parser.add_argument("--out", type=Path, help="write the manifest that data.manifest= takes")
    args = parser.parse_args(argv)
    try:
        cfg = compose_run(args.overrides)
        check_config(cfg, args.overrides)
        data = datamodule(cfg)
        data.select()
    except (ConfigError, HydraException) as error:
        cause = error.__cause__ if isinstance(error.__cause__, ConfigError) else error
        message = str(cause)
        if not isinstance(cause, ConfigError):  # Hydra's, over several lines: one
            message = hydras_refusal(error, args.overrides) or " ".join(
                message.split("Config search path")[0].split()
            )
        print(f"error: {message}", file=sys.stderr)
        return 2
    counts = split_counts(data)
    print(
        f"{data.num_classes} classes, profile={cfg.profile}: imbalance "
        f"{imbalance_label(data.imbalance)} (largest training class over the smallest)\n"
    )
    print(table(data, counts))
    groups = "; ".join(f"{group}: {len(names)} classes" for group, names in data.groups.items())
    print(f"\ngroups: {groups}\nsplits sha256 {data.splits_hash}")
    batch = data.batch_for(sum(counts["train"].values()))
    rate = at_batch(cfg, batch).optim.lr
    print(batch_rule(cfg, {"data.batch_size": batch, "processes": 1, "optim.lr": rate}))
    if args.out:
        manifest = {
            "config": run_config(cfg),
            "splits": data.splits,
            "splits_hash": data.splits_hash,
        }
        atomic_write(args.out, lambda file: file.write(json.dumps(manifest).encode()))
        print(f"wrote {args.out}: train on exactly these images with data.manifest={args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
