import pytest
import torch
from omegaconf import OmegaConf
from torch import nn

from helpers import REPO
from imbalance.models.cnn import CNN


def paper_layers():
    return OmegaConf.load(REPO / "conf/model/paper.yaml").layers


def test_paper_network_matches_table2():
    net = CNN(paper_layers(), in_channels=3, input_size=227, num_classes=10)
    convs = [m for m in net.features if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0], c.padding[0]) for c in convs] == [
        (32, 7, 2, 0),
        (64, 5, 1, 2),
        (128, 3, 1, 2),
        (128, 3, 1, 1),
    ]
    x = torch.zeros(2, 3, 227, 227)
    shapes = []
    for layer in net.features:
        x = layer(x)
        if isinstance(layer, nn.MaxPool2d):
            shapes.append(tuple(x.shape[1:]))
    assert shapes == [(32, 55, 55), (64, 27, 27), (128, 14, 14), (128, 6, 6)]
    linears = [m for m in net.classifier if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(6 * 6 * 128, 512), (512, 10)]
    assert net(torch.zeros(2, 3, 227, 227)).shape == (2, 10)


def test_batch_norm_and_dropout_are_switches():
    plain = CNN(paper_layers(), 3, 227, 10)
    assert not any(isinstance(m, nn.BatchNorm2d | nn.Dropout) for m in plain.modules())
    switched = CNN(paper_layers(), 3, 227, 10, batch_norm=True, dropout=0.5)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in switched.features) == 4
    # Every convolution is followed by its batch norm.
    layers = list(switched.features)
    for i, layer in enumerate(layers):
        if isinstance(layer, nn.Conv2d):
            assert isinstance(layers[i + 1], nn.BatchNorm2d)
    # Dropout 0.5 right before the last layer.
    assert isinstance(switched.classifier[-2], nn.Dropout) and switched.classifier[-2].p == 0.5


def test_gaussian_initialization_with_zero_biases():
    torch.manual_seed(0)
    net = CNN(paper_layers(), 3, 227, 10, init_std=0.01)
    weights = torch.cat([m.weight.flatten() for m in net.modules() if isinstance(m, nn.Conv2d)])
    assert abs(weights.std().item() - 0.01) < 0.0005
    assert abs(weights.mean().item()) < 0.0005
    assert all(m.bias.abs().sum() == 0 for m in net.modules() if isinstance(m, nn.Linear))


def test_input_layer_zero_centres_raw_pixels():
    net = CNN(paper_layers(), 3, 227, 10, input_scale=1.0, zero_center=True)
    mean = torch.rand(3, 227, 227) * 255
    net.input.set_mean(mean)
    assert torch.allclose(net.input(mean.unsqueeze(0)), torch.zeros(1, 3, 227, 227))
    scaled = CNN(paper_layers(), 3, 227, 10, input_scale=0.5, zero_center=False)
    scaled.input.set_mean(mean)
    ten = torch.full((1, 3, 227, 227), 10.0)
    assert torch.equal(scaled.input(ten), ten / 2)


def test_channels_last_computes_the_same_logits_and_gradients():
    torch.manual_seed(0)
    fast = CNN(paper_layers(), 3, 67, 10, init_std=0.01, batch_norm=True)
    plain = CNN(paper_layers(), 3, 67, 10, batch_norm=True, channels_last=False)
    plain.load_state_dict(fast.state_dict())
    conv = fast.features[0]
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert not plain.features[0].weight.is_contiguous(memory_format=torch.channels_last)
    pixels = torch.rand(4, 3, 67, 67) * 255
    logits = [net(pixels) for net in (fast, plain)]
    assert torch.allclose(logits[0], logits[1], rtol=1e-4, atol=1e-5)
    for out in logits:
        out.sum().backward()
    assert torch.allclose(conv.weight.grad, plain.features[0].weight.grad, rtol=1e-3, atol=1e-5)


def test_a_batch_of_one_fails_only_where_batch_norm_sees_one_value_a_channel():
    from imbalance.models.network import batch_of_one_fails

    image = torch.rand(1, 3, 4, 4)
    over_pixels = nn.Sequential(nn.Conv2d(3, 2, 3), nn.BatchNorm2d(2))  # 2 x 2 values a channel
    pooled = nn.Sequential(nn.Conv2d(3, 2, 4), nn.BatchNorm2d(2))  # 1 x 1: one value
    flat = nn.Sequential(nn.Flatten(), nn.Linear(48, 5), nn.BatchNorm1d(5))
    assert not batch_of_one_fails(over_pixels, image)
    assert batch_of_one_fails(pooled, image) and batch_of_one_fails(flat, image)
    assert not batch_of_one_fails(nn.Sequential(nn.Conv2d(3, 2, 4)), image)  # no batch norm
    pooled.train()
    before = pooled[1].running_mean.clone()
    batch_of_one_fails(pooled, image)
    assert pooled.training and torch.equal(pooled[1].running_mean, before)  # nothing changed
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        pooled(image)  # what the probe foresees
