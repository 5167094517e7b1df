"""What a finished run adds to TensorBoard: class names drawn in any script."""

import logging

import numpy as np
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

from imbalance.run.summary import drawable


def undrawn(labels: list[str], families: list[str]) -> set[str]:
    """The characters of `labels` that none of the font `families` holds (matplotlib would
    draw a box for each: its placeholder font, or nothing at all)."""
    held = set()
    for family in families:
        path = font_manager.findfont(family, fallback_to_default=False)
        held |= set(FT2Font(path).get_charmap())
    return {c for label in labels for c in label if ord(c) not in held}


def test_names_in_latin_cyrillic_or_with_commas_are_drawn_as_they_are():
    names = ["berries, red", "Жук", "café"]
    labels, families = drawable(names)
    assert labels == names
    assert not undrawn(labels, families)


def test_characters_of_another_font_are_drawn_with_that_font():
    labels, families = drawable(["Ⓐ class"])  # circled A: STIX has it, DejaVu Sans does not
    assert labels == ["Ⓐ class"] and families[0] == "DejaVu Sans" and "STIXGeneral" in families
    assert undrawn(labels, ["DejaVu Sans"]) == {"Ⓐ"}
    assert not undrawn(labels, families)


def test_characters_no_font_has_become_code_points_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        labels, families = drawable(["猫*", "dog"])  # no CJK font on a bare machine
    if labels[0] == "猫*":  # this machine has a CJK font: drawn as it is
        assert not undrawn(labels, families)
        return
    assert labels == ["U+732B*", "dog"]
    assert "'猫*' have characters that no installed font draws" in caplog.text
    assert not undrawn(labels, families)


def test_the_confusion_matrix_shows_counts_for_few_classes_and_stays_small_for_many():
    from imbalance.run.summary import CELL_INCHES, NUMBERED_UP_TO, confusion_figure

    few = confusion_figure(np.eye(3, dtype=int) * 7, ["a", "b", "c"], "run")
    (axes,) = [a for a in few.axes if a.get_title() == "run"]
    assert sorted(t.get_text() for t in axes.texts) == ["0"] * 6 + ["7"] * 3
    assert tuple(few.get_size_inches()) == (2.5 + 3 * CELL_INCHES,) * 2

    names = [f"class {i}" for i in range(100)]
    many = confusion_figure(np.ones((100, 100), dtype=int), names, "run")
    (axes,) = [a for a in many.axes if a.get_title() == "run"]
    assert len(axes.texts) == 0 and len(axes.get_yticklabels()) == 100
    assert tuple(many.get_size_inches()) == (2.5 + NUMBERED_UP_TO * CELL_INCHES,) * 2
