from pathlib import Path

import pytest
from hydra import compose, initialize_config_module
from omegaconf import DictConfig

from helpers import TINY, make_image_tree, run_main


def compose_train(*overrides: str, hydra: bool = False) -> DictConfig:
    """conf/train.yaml with these command-line overrides, composed as Hydra composes a run's
    config (with its `hydra` node when `hydra`), from the package as `python -m imbalance.train`
    finds it."""
    with initialize_config_module("imbalance.conf", version_base="1.3"):
        return compose("train", overrides=list(overrides), return_hydra_config=hydra)


@pytest.fixture
def config():
    """config("reg=full", "data.per_class=8"): the composed config of a run (compose_train)."""
    return compose_train


@pytest.fixture
def image_tree(tmp_path):
    """Makes a class-per-folder tree of JPEGs under tmp_path/images: image_tree({"a": 3})."""
    return lambda counts, grey=None: make_image_tree(tmp_path / "images", counts, grey)


@pytest.fixture(scope="session")
def real_sweep(tmp_path_factory) -> Path:
    """A 4-job sweep (ratio=1,3 reg=none,norm) run from an empty folder, as a user runs it:
    its directory, outputs/multirun/<time>. The accelerator, a hardware choice, is not part of
    the job names."""
    cwd = tmp_path_factory.mktemp("sweep")
    result = run_main("-m", "ratio=1,3", "reg=none,norm", *TINY, "trainer.accelerator=cpu", cwd=cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    (sweep_dir,) = (cwd / "outputs" / "multirun").iterdir()
    return sweep_dir
