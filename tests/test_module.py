import pytest
from hydra.utils import instantiate

from imbalance.build import build, make_trainer


def test_history_records_the_learning_rate_each_epoch_trained_with(tmp_path, config):
    overrides = ["data.per_class=8", "data.image_size=16", "trainer.max_epochs=3"]
    overrides += ["optim.lr=0.01", "optim.schedule.every=2", "optim.schedule.gamma=0.1"]
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


def test_train_accuracy_and_loss_are_over_every_image_of_the_epoch(tmp_path, config):
    """With a learning rate of 0 the network does not change: the epoch's train accuracy and
    loss are its accuracy and mean loss per image over the training split, the smaller last
    batch (7 images a batch) weighted by its size; the same to the last digit when the steps'
    outputs enter the metrics every 2 steps instead of at the epoch's end."""
    import torch
    import torch.nn.functional as F

    cfg = config("data.per_class=8", "data.image_size=16", "data.batch_size=7", "optim.lr=0")
    cfg.trainer.max_epochs = 1
    histories = []
    for steps_kept in (256, 2):
        data, module = build(cfg)
        module.STEPS_KEPT = steps_kept
        trainer = make_trainer(
            cfg, logger=False, enable_checkpointing=False, default_root_dir=tmp_path
        )
        trainer.fit(module, datamodule=data)
        histories.append(module.history)
    images, labels = data.train_set.tensors
    assert len(labels) % 7 != 0 and len(labels) > 4 * 7
    with torch.no_grad():
        logits = module.net(images.float())
    assert histories[0] == histories[1]
    (epoch,) = histories[0]
    assert epoch["train_acc"] == pytest.approx((logits.argmax(dim=1) == labels).float().mean())
    assert epoch["train_loss"] == pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-5)


def test_a_sanity_check_is_not_an_epoch(tmp_path, config):
    """+trainer.num_sanity_val_steps runs the evaluation once before training: it is neither
    epoch 1's test pass (with a test pass every 2 epochs, epoch 1 has none) nor part of epoch
    2's."""
    cfg = config("data.per_class=8", "data.image_size=16", "+trainer.check_val_every_n_epoch=2")
    histories = []
    for sanity_steps in (0, 1):
        cfg.trainer.num_sanity_val_steps = sanity_steps
        data, module = build(cfg)
        trainer = make_trainer(
            cfg, logger=False, enable_checkpointing=False, default_root_dir=tmp_path
        )
        trainer.fit(module, datamodule=data)
        histories.append(module.history)
    assert histories[1][0]["test_acc"] is None and histories[1][0]["test_loss"] is None
    assert histories[1] == histories[0]
