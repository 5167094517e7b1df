import pytest

from helpers import make_image_tree


@pytest.fixture
def image_tree(tmp_path):
    """Makes a class-per-folder tree of JPEGs under tmp_path/images: image_tree({"a": 3})."""
    return lambda counts, grey=None: make_image_tree(tmp_path / "images", counts, grey)
