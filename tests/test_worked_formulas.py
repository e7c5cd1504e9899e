"""The formulas notebook 1 works by hand give what the library computes.

``notebooks/01_model_1.ipynb`` works the output size, the receptive field (with its ``start``) and the parameters
of Model_1's first layers in markdown, before the library's tables show them. Each worked line is written here
from ``models.receptive_field_table`` and ``models.conv_budget`` and must appear, character for character, in the
notebook's cells marked ``<!-- worked-formulas``: a change of architecture, or a typo, fails here.
"""

from pathlib import Path

import nbformat
import pytest

from mnist_kit.models import conv_budget, count_parameters, get_model, receptive_field_table

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "01_model_1.ipynb"
MARK = "<!-- worked-formulas"


def _worked_text() -> str:
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    return "\n".join(c.source for c in cells if c.cell_type == "markdown" and c.source.startswith(MARK))


def _n(x: float) -> str:
    """A number as the notebook writes it: no trailing .0, thousands with a comma, a true minus sign."""
    return f"{x:,g}".replace("-", "−") if x != int(x) else f"{int(x):,}".replace("-", "−")


def _rows() -> dict[str, tuple[dict, dict]]:
    """Each layer's row of the receptive-field table with the row before it (the image: size 28, r 1, j 1, start 0)."""
    rows = receptive_field_table(get_model("model_1"))
    image = {"output_size": 28, "receptive_field": 1, "jump": 1, "start": 0.0}
    return {row["layer"]: (before, row) for before, row in zip([image, *rows], rows, strict=False)}


def _expected_lines() -> list[str]:
    rows, lines = _rows(), []
    for layer in ("convblock1.0", "convblock2.0", "transition.0", "transition.1", "convblock6.0"):
        before, row = rows[layer]
        n, p, k, s = before["output_size"], row["padding"], row["kernel"], row["stride"]
        lines.append(f"({n} + 2·{p} − {k})/{s} + 1 = {row['output_size']}")
    for layer in ("convblock1.0", "convblock2.0", "transition.0", "transition.1", "convblock3.0", "gap"):
        before, row = rows[layer]
        lines.append(
            f"r = {before['receptive_field']} + ({row['kernel']} − 1)·{before['jump']} = {row['receptive_field']}"
        )
    before, pool = rows["transition.1"]
    lines.append(f"j = {before['jump']}·{pool['stride']} = {pool['jump']}")
    for layer in ("convblock1.0", "transition.1", "convblock6.0", "gap"):
        before, row = rows[layer]
        k, p, j = row["kernel"], row["padding"], before["jump"]
        lines.append(f"{_n(before['start'])} + (({k} − 1)/2 − {p})·{j} = {_n(row['start'])}")
    _, last = rows["convblock6.0"]
    r, centre = last["receptive_field"], last["start"]
    lines.append(f"{_n(centre)} − ({r} − 1)/2 = {_n(centre - (r - 1) / 2)} to {_n(centre + (r - 1) / 2)}")
    _, gap = rows["gap"]
    overhang = (gap["receptive_field"] - 28) // 2
    lines.append(f"28 + 2·{overhang} = {gap['receptive_field']}")
    assert centre - (r - 1) / 2 == -overhang  # the first pixel of block 6 overhangs by as much as the GAP does
    return lines


def _parameter_lines() -> list[str]:
    budget = {row["block"]: row for row in conv_budget(get_model("model_1"))}
    lines = []
    for block in ("block 1", "block 2"):
        row = budget[block]
        c_in, c_out = row["conv"].split(", ")[1].split("→")
        lines.append(
            f"9·{c_in}·{c_out} = {row['conv_params']:,} + BatchNorm 2·{c_out} = {row['bn_params']}, "
            f"together {row['parameters']:,} parameters"
        )
    for block in ("transition", "head"):
        row = budget[block]
        c_in, c_out = row["conv"].split(", ")[1].split("→")
        assert row["bn_params"] == 0
        lines.append(f"({c_in} → {c_out}, no BatchNorm): {c_in}·{c_out} = {row['conv_params']:,}")
    lines.append(f"you get {count_parameters(get_model('model_1')):,}")
    return lines


def test_the_worked_cells_are_there():
    assert _worked_text().count(MARK) >= 2


@pytest.mark.parametrize("line", _expected_lines() + _parameter_lines())
def test_a_worked_formula_is_what_the_library_computes(line):
    assert line in _worked_text(), f"notebook 1's worked formulas lack (or have a wrong) {line!r}"


def test_a_wrong_figure_would_be_caught():
    lines = _expected_lines()
    assert "(28 + 2·0 − 3)/1 + 1 = 26" in lines and "(28 + 2·0 − 3)/1 + 1 = 27" not in _worked_text()
