"""The benchmark's baselines run the same work as a framework run (their speed is measured
by `make bench`, not here)."""

import pytest

from helpers import make_image_tree
from imbalance.bench import baselines


@pytest.mark.parametrize("source", ["folder", "digits"])
def test_the_baselines_train_for_the_configured_epochs(tmp_path, config, source):
    common = ["data.image_size=16", "reg=full", "trainer.max_epochs=2", "trainer.accelerator=cpu"]
    if source == "folder":
        classes = [f"c{i}" for i in range(4)]
        root = make_image_tree(tmp_path / "images", {name: 6 for name in classes})
        common += [f"data.root={root}", "data.minority=[c2,c3]", "data.cache_dir=null"]
    cfg = config(f"data={source}", "data.per_class=4", *common)
    for seconds in (
        baselines.floor(cfg),
        baselines.lightning_floor(cfg),
        baselines.fabric_floor(cfg),
        baselines.naive(cfg, workers=0),
    ):
        assert len(seconds) == 2 and all(s > 0 for s in seconds)


def test_the_naive_pipeline_decodes_the_images_the_framework_trains_on(config):
    cfg = config("data.per_class=4", "data.image_size=16")
    data, _ = baselines.build(cfg)
    catalog, splits = data.select()
    indices = splits["train"]
    dataset = baselines.DecodedEveryEpoch(
        baselines._opener(catalog, indices), catalog.labels[indices], 16
    )
    framework_images, framework_labels = data.train_set.tensors
    for i in range(3):
        pixels, label = dataset[i]
        assert pixels.shape == (1, 16, 16) and label == framework_labels[i]
        # PIL's bicubic resize against torchvision's: within a grey level on average.
        assert (pixels - framework_images[i].float()).abs().mean() < 1
