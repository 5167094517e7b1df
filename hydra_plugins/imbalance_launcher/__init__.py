"""The launcher of hydra/launcher=slurm (slurm.py). Hydra takes launchers from the
hydra_plugins namespace package only, so it lives here, beside the installed plugins."""
