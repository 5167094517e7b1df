"""Studies of how class imbalance hurts the training of convolutional networks."""

import warnings

# Lightning 2.6 uses a torch pytree API that torch 2.14 deprecates, and warns on import: nothing
# a user can act on.
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
# On a SLURM login node Lightning suggests srun for every local run; a sweep reaches the cluster
# through hydra/launcher=slurm instead.
warnings.filterwarnings("ignore", message=r".*The `srun` command is available on your system.*")

from imbalance import resolvers  # noqa: E402, F401 (registers what the configs use)
