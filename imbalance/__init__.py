"""Studies of how class imbalance hurts the training of convolutional networks."""

import hashlib
import warnings

from omegaconf import OmegaConf

# Lightning 2.6 uses a torch pytree API that torch 2.14 deprecates, and warns on import: nothing
# a user can act on.
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")

# For schedules that must fit the run, e.g. conf/remedy/drw.yaml's
# drw_epoch: ${min:${optim.lr_step_epochs},${trainer.max_epochs}}
OmegaConf.register_new_resolver("min", min, replace=True)

# Job directories are named by their overrides (conf/train.yaml: ${job_name:...}).
MAX_NAME_BYTES = 200  # file systems allow 255 bytes a name


def job_name(overrides: str) -> str:
    """`overrides` (Hydra's override dirname), cut to MAX_NAME_BYTES with a short hash of the
    whole appended when longer, so that every job of a sweep keeps a distinct, legal name;
    results.json keeps the full overrides."""
    if len(overrides.encode()) <= MAX_NAME_BYTES:
        return overrides
    digest = hashlib.sha256(overrides.encode()).hexdigest()[:10]
    head = overrides.encode()[: MAX_NAME_BYTES - 12].decode(errors="ignore")
    return f"{head}~{digest}"


OmegaConf.register_new_resolver("job_name", job_name, replace=True)
