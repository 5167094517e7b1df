from pathlib import Path

import pytest

from helpers import TINY, make_image_tree, run_cli


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
    result = run_cli("-m", "ratio=1,3", "reg=none,norm", *TINY, "trainer.accelerator=cpu", cwd=cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    (sweep_dir,) = (cwd / "outputs" / "multirun").iterdir()
    return sweep_dir
