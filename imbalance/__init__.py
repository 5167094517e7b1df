"""Studies of how class imbalance hurts the training of convolutional networks."""

import warnings

from omegaconf import OmegaConf

# Lightning 2.6 uses a torch pytree API that torch 2.14 deprecates, and warns on import: nothing
# a user can act on.
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")

# For schedules that must fit the run, e.g. conf/remedy/drw.yaml's
# drw_epoch: ${min:${optim.lr_step_epochs},${trainer.max_epochs}}
OmegaConf.register_new_resolver("min", min, replace=True)
