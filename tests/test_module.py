import pytest
from hydra.utils import instantiate

from imbalance.train import build


def test_history_records_the_learning_rate_each_epoch_trained_with(tmp_path, config):
    overrides = ["data.per_class=8", "data.image_size=16", "trainer.max_epochs=3"]
    overrides += ["optim.lr=0.01", "optim.lr_step_epochs=2", "optim.lr_gamma=0.1"]
    cfg = config(*overrides)
    data, module = build(cfg)
    trainer = instantiate(cfg.trainer, accelerator="cpu", logger=False, default_root_dir=tmp_path)
    trainer.fit(module, datamodule=data)
    # Divided by 10 every 2 epochs: epochs 1 and 2 at 0.01, epoch 3 at 0.001.
    assert [epoch["lr"] for epoch in module.history] == pytest.approx([0.01, 0.01, 0.001])
