"""The project's Hydra plugins: the launcher of hydra/launcher=slurm (slurm.py) and the sweeper
that names job directories by what varies (sweeper.py). Hydra takes plugins from the
hydra_plugins namespace package only, so they live here, beside the installed plugins."""
