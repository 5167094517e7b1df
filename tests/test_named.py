"""torchvision's networks by name: built, sized to the classes, and loaded from a local file."""

import pytest
import torch
import torchvision

from imbalance.errors import ConfigError
from imbalance.models.named import TorchvisionNet


def test_a_torchvision_network_by_name_ends_in_a_layer_per_class():
    net = TorchvisionNet("resnet18", in_channels=3, input_size=32, num_classes=7)
    assert isinstance(net.features.fc, torch.nn.Identity)  # torchvision's 1000-way layer is gone
    last = net.classifier[-1]
    assert (last.in_features, last.out_features) == (512, 7)
    assert net(torch.rand(2, 3, 32, 32) * 255).shape == (2, 7)
    grey = TorchvisionNet("mobilenet_v3_small", in_channels=1, input_size=32, num_classes=4)
    assert grey(torch.rand(2, 1, 32, 32) * 255).shape == (2, 4)  # repeated into 3 channels


def test_weights_come_from_a_local_file_read_without_running_code(tmp_path):
    torch.manual_seed(3)
    saved = torchvision.models.resnet18()
    path = tmp_path / "resnet18.pt"
    torch.save(saved.state_dict(), path)
    torch.manual_seed(4)  # a fresh network would differ
    net = TorchvisionNet("resnet18", 3, 32, 10, weights=str(path))
    assert torch.equal(net.features.conv1.weight, saved.conv1.weight)
    assert torch.equal(net.features.layer4[1].bn2.running_var, saved.layer4[1].bn2.running_var)
    other = tmp_path / "other.pt"
    torch.save({"conv1.weight": torch.zeros(1)}, other)  # another network's
    with pytest.raises(ConfigError, match=r"^model.weights=.*other.pt is not a state dict of this"):
        TorchvisionNet("resnet18", 3, 32, 10, weights=str(other))


def test_a_file_trained_on_other_classes_gives_all_but_its_last_layer(tmp_path, caplog):
    import logging

    torch.manual_seed(3)
    saved = torchvision.models.resnet18(num_classes=10)  # trained on 10 classes
    path = tmp_path / "ten.pt"
    torch.save(saved.state_dict(), path)
    with caplog.at_level(logging.INFO):
        net = TorchvisionNet("resnet18", 3, 32, 5, weights=str(path))  # a 5-class run
    assert torch.equal(net.features.layer4[1].conv2.weight, saved.layer4[1].conv2.weight)
    assert net.classifier[-1].out_features == 5
    assert (
        f"model.weights={path}: its last layer (fc, 10 outputs) is left out; the run's, of 5 "
        "classes, starts afresh"
    ) in caplog.text
    del saved.layer1  # a file that lacks layers is still refused
    torch.save(saved.state_dict(), path)
    with pytest.raises(ConfigError, match=r"is not a state dict of this network \(missing"):
        TorchvisionNet("resnet18", 3, 32, 5, weights=str(path))


def test_unknown_names_and_weights_are_one_line():
    with pytest.raises(
        ConfigError, match=r"^model.name=resnet1000 is not one of torchvision's \d+"
    ):
        TorchvisionNet("resnet1000", 3, 32, 10)
    with pytest.raises(ConfigError, match="^model.weights=Nope.X is neither a file nor a torch"):
        TorchvisionNet("resnet18", 3, 32, 10, weights="Nope.X")
