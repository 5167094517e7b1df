"""The Hydra configs of `python -m imbalance.train`, shipped in the package as `imbalance.conf`
(pyproject.toml maps it to this folder)."""
