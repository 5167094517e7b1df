"""The benchmark's two baselines run the same work as a framework run (their speed is measured
by `make bench`, not here)."""

from helpers import make_image_tree
from imbalance.bench import baselines


def test_floor_and_naive_pipelines_train_for_the_configured_epochs(tmp_path, config):
    classes = [f"c{i}" for i in range(4)]
    root = make_image_tree(tmp_path / "images", {name: 6 for name in classes})
    overrides = [
        "data=folder",
        f"data.root={root}",
        "data.minority=[c2,c3]",
        "data.per_class=4",
        "data.image_size=16",
        "data.cache_dir=null",
        "reg=full",
        "trainer.max_epochs=2",
        "trainer.accelerator=cpu",
    ]
    cfg = config(*overrides)
    for seconds in (baselines.floor(cfg), baselines.naive(cfg, workers=0)):
        assert len(seconds) == 2 and all(s > 0 for s in seconds)
