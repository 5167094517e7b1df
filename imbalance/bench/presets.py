"""What `python -m imbalance.bench` measures: each preset's overrides of the training config,
its defaults, its goal, and the sweeps --sweep times."""

from imbalance.bench import scale

# What each preset adds to the defaults: the digits are the defaults.
PRESETS = {
    "digits": lambda args: [],  # in memory already: no image cache
    "paper": lambda args: [
        "experiment=paper",
        f"data.root={args.data}",
        f"data.cache_dir={args.cache}",
    ],
    # CIFAR-10-LT's recipe on images of CIFAR's shapes (imbalance.bench.generated), or on the
    # real CIFAR-10 with --data; --per-class shrinks the training and test sets alike.
    "cifar10_lt": lambda args: [
        "experiment=cifar10_lt",
        *(
            [f"data.root={args.data}"]
            if args.data
            else [
                "data.root=null",
                "data.source._target_=imbalance.bench.generated.CIFARShapes",
                f"+data.source.train_per_class={args.per_class or 5000}",
                f"+data.source.test_per_class={(args.per_class or 5000) // 5}",
            ]
        ),
    ],
    # --scale's generated folders, their images kept on disk.
    "scale": lambda args: [
        "data=folder",
        f"data.root={args.data}",
        "profile=natural",
        "data.in_memory=false",
        f"data.cache_dir={args.cache}",
        f"data.image_size={scale.SIZE}",
        "data.batch_size=64",
        "data.eval_batch_size=256",
    ],
}
# Many short turns rather than a few long ones: a turn's runs then lie close in time.
EPOCHS = {"digits": 50, "paper": 10, "scale": 2, "cifar10_lt": 3}
REPEATS = {"digits": 8, "paper": 8, "scale": 1, "cifar10_lt": 2}

# The sweeps --sweep times: the study's 12 runs (make train, make paper) and every remedy at
# the largest ratio.
SWEEPS = {
    "study": {"ratio": "1,3,7,15", "reg": "none,full,norm"},
    "remedies": {"ratio": "15", "remedy": "glob(*)"},
}
# Per epoch, the framework over the loop it is held to: for the digits, whose small steps show
# what any loop costs per step, Lightning's Trainer with only the loss (d); else the bare loop.
GOALS = {"digits": ("d", 1.10), "paper": ("b", 1.05), "cifar10_lt": ("b", 1.10)}
# The baselines' names, by the letter of their rows.
BASELINES = {"b": "floor", "d": "lightning", "e": "fabric"}


def with_defaults(args) -> None:
    """Fills in what the command line left to the preset (--scale is a preset of its own)."""
    if args.scale:
        args.preset = "scale"
    cifar = args.preset == "cifar10_lt"
    args.epochs = args.epochs or EPOCHS[args.preset]
    args.repeat = args.repeat or REPEATS[args.preset]
    args.ratio = args.ratio or ("100" if cifar else "1")
    args.reg = args.reg or ("long_tail" if cifar else "none")
    if args.preset == "paper":
        args.data = args.data or "../shared/data/caltech101"


def overrides(args, epochs: int | None = None, ratio=None, reg=None) -> list[str]:
    return [
        *PRESETS[args.preset](args),
        *([] if args.preset == "scale" else [f"ratio={ratio or args.ratio}"]),  # natural
        f"reg={reg or args.reg}",
        f"trainer.max_epochs={epochs or args.epochs}",
        f"trainer.accelerator={args.accelerator}",
        f"trainer.precision={args.precision}",
        *([f"data.per_class={args.per_class}"] if args.per_class else []),
    ]
