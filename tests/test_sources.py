import numpy as np
import pytest
import torch

from helpers import make_image_tree
from imbalance.errors import ConfigError
from imbalance.sources import Caltech101, Digits, ImageFolder


def test_digits_are_the_bundled_real_images():
    catalog = Digits().catalog(None, None)
    assert catalog.class_names == [str(d) for d in range(10)]
    assert len(catalog.labels) == 1797
    assert catalog.channels == 1
    images = catalog.decode([0, 1, 2], 32)
    assert images.shape == (3, 1, 32, 32) and images.dtype == torch.uint8
    assert images.max() > 200  # stretched from 0-16 to 0-255


def test_digits_class_subset_is_relabelled_in_the_order_given():
    catalog = Digits().catalog(None, ["7", "3"])
    assert catalog.class_names == ["7", "3"]
    assert set(np.unique(catalog.labels)) == {0, 1}
    with pytest.raises(ConfigError, match="class 'x' is not in the digits data set"):
        Digits().catalog(None, ["x"])


def test_folder_lists_classes_from_folder_names_and_decodes_rgb(image_tree):
    root = image_tree({"b": 3, "a": 2}, grey="a")
    catalog = ImageFolder().catalog(str(root), None)
    assert catalog.class_names == ["a", "b"]
    assert catalog.labels.tolist() == [0, 0, 1, 1, 1]
    images = catalog.decode(range(5), 24)
    # Varied sizes resized, the greyscale image made RGB.
    assert images.shape == (5, 3, 24, 24) and images.dtype == torch.uint8
    grey = images[0]
    assert torch.equal(grey[0], grey[1]) and torch.equal(grey[1], grey[2])


def test_folder_errors_are_one_clear_line(image_tree, tmp_path):
    root = image_tree({"a": 2})
    with pytest.raises(ConfigError, match="does not exist"):
        ImageFolder().catalog(str(tmp_path / "nowhere"), None)
    with pytest.raises(ConfigError, match=r"class folder '.*/b' is missing"):
        ImageFolder().catalog(str(root), ["a", "b"])
    with pytest.raises(ConfigError, match="needs data.root"):
        ImageFolder().catalog(None, None)


@pytest.mark.parametrize("layout", ["folder itself", "parent", "torchvision"])
def test_caltech101_root_may_be_any_of_three_levels(tmp_path, layout):
    base = {
        "folder itself": tmp_path / "101_ObjectCategories",
        "parent": tmp_path / "101_ObjectCategories",
        "torchvision": tmp_path / "caltech101" / "101_ObjectCategories",
    }[layout]
    make_image_tree(base, {"Faces": 2, "water_lilly": 2, "BACKGROUND_Google": 1})
    root = base if layout == "folder itself" else tmp_path
    catalog = Caltech101().catalog(str(root), ["water_lilly", "Faces"])
    assert catalog.class_names == ["water_lilly", "Faces"]
    assert len(catalog.labels) == 4


def test_caltech101_without_files_fails_clearly_when_not_downloading(tmp_path):
    with pytest.raises(ConfigError, match="no Caltech101 under data.root=.*data.source.download"):
        Caltech101().catalog(str(tmp_path), ["Faces"])
