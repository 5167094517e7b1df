"""python -m imbalance.bench: the framework timed against what it is measured against.

presets    what each preset overrides in the training config, its defaults, its goal; the sweeps
baselines  the compute floor (a bare PyTorch loop) and the naive pipeline (decoding every epoch)
scale      data larger than memory: generated folders, peak memory of a process tree
generated  images of CIFAR's shapes, for the cifar10_lt preset without the real CIFAR-10
stats      the order of a sitting's turns, each turn's ratio, the interval for their median
runner     each run in a process of its own, timed
markdown   the figures as Markdown; BENCHMARKS.md and docs/benchmarks-history.md edited
"""
