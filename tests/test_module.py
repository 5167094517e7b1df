import pytest
from hydra.utils import instantiate

from imbalance.train import build, make_trainer


def test_history_records_the_learning_rate_each_epoch_trained_with(tmp_path, config):
    overrides = ["data.per_class=8", "data.image_size=16", "trainer.max_epochs=3"]
    overrides += ["optim.lr=0.01", "optim.lr_step_epochs=2", "optim.lr_gamma=0.1"]
    cfg = config(*overrides)
    data, module = build(cfg)
    trainer = instantiate(cfg.trainer, accelerator="cpu", logger=False, default_root_dir=tmp_path)
    trainer.fit(module, datamodule=data)
    # Divided by 10 every 2 epochs: epochs 1 and 2 at 0.01, epoch 3 at 0.001.
    assert [epoch["lr"] for epoch in module.history] == pytest.approx([0.01, 0.01, 0.001])


def test_callbacks_that_monitor_a_metric_see_the_epochs_numbers(tmp_path, config):
    """The module hands its numbers to the loggers itself (not through self.log); callbacks
    still read them from trainer.callback_metrics: EarlyStopping stops when test/loss stops
    falling by 10 (never), after its first comparison."""
    from lightning.pytorch.callbacks import EarlyStopping

    cfg = config("data.per_class=8", "data.image_size=16", "trainer.max_epochs=4")
    data, module = build(cfg)
    stop = EarlyStopping(monitor="test/loss", min_delta=10, patience=0, mode="min")
    trainer = make_trainer(cfg, logger=False, callbacks=[stop], default_root_dir=tmp_path)
    trainer.fit(module, datamodule=data)
    assert len(module.history) == 2 and stop.stopped_epoch == 1
    metrics = trainer.callback_metrics
    assert metrics["test/loss"].item() == pytest.approx(module.history[-1]["test_loss"])
    assert {"train/acc", "train/loss", "test/balanced_acc", "test/auroc"} <= set(metrics)
