"""python -m imbalance.tune remedy=A,B,... seed=0,1,2 [overrides]: every remedy at every point
of its grid, with the same seeds, on a validation split; then
`python -m imbalance.report DIR --baseline remedy=none --select-on val` picks each remedy's
point by its validation value and compares the picked remedies on the test split.

A sweep like `python -m imbalance.train -m ...` (its launchers, its directory, reruns that skip
finished jobs), whose jobs are each remedy's grid points: `grid` in conf/remedy/<name>.yaml lists
the values to try at the remedy's keys, as its paper gives them, and may name the optimizer's
(`'+remedy.grid.optim.lr=[0.01,0.03,0.1]'`: a rate picked on validation). A key set on the
command line keeps its one value; a remedy without a grid runs once. A run without a validation
split of its own (a source's val list, or data.val_fraction) holds out
`imbalance.grid.VAL_FRACTION` of each class's training images.
"""

import sys


def main() -> None:
    from imbalance import train

    sys.argv[1:] = ["--multirun", "hydra.sweeper.grid=true", *sys.argv[1:]]
    train.main()


if __name__ == "__main__":
    main()
