"""The size cap of committed notebooks (documented in nbs/31_explorers.ipynb).

Notebooks are committed with their outputs, so one careless output (a plotly figure that embeds plotly.js, a
widget state saved by JupyterLab, a 300-dpi image grid) can make the repository heavy and the diffs unreadable.
The cap:

- every `nbs/*.ipynb` is under MAX_NOTEBOOK bytes;
- every single cell output is under MAX_OUTPUT bytes;
- no notebook stores widget state (`metadata.widgets`: JupyterLab's "Save Widget State Automatically"; nbdev-clean
  keeps that key), so widgets are saved as their small view reference only;
- no output embeds the plotly.js library (use the `plotly_mimetype` renderer, as the explorers do).
"""
import json
from pathlib import Path

import pytest

NBS = sorted((Path(__file__).resolve().parents[1] / "nbs").glob("*.ipynb"))
MAX_NOTEBOOK = 1_500_000      # bytes per notebook file
MAX_OUTPUT = 500_000          # bytes per cell output (JSON-encoded)
PLOTLY_JS = "plotly.js v"     # the banner at the top of the embedded plotly.js bundle


def _outputs(nb):
    for i, c in enumerate(nb["cells"]):
        for o in c.get("outputs", []):
            yield i, o


def test_found_notebooks():
    assert len(NBS) > 10, NBS


@pytest.mark.parametrize("path", NBS, ids=[p.name for p in NBS])
def test_notebook_size(path):
    size = path.stat().st_size
    assert size < MAX_NOTEBOOK, (f"{path.name} is {size / 1e6:.2f} MB, over the {MAX_NOTEBOOK / 1e6:.1f} MB cap: "
                                 "shrink its figures (figsize, dpi) or clear its largest outputs")
    nb = json.loads(path.read_text())
    assert "widgets" not in nb.get("metadata", {}), (f"{path.name} stores widget state: turn off JupyterLab's 'Save "
                                                     "Widget State Automatically' and run nbdev-clean after clearing it")
    for i, o in _outputs(nb):
        n = len(json.dumps(o))
        assert n < MAX_OUTPUT, f"{path.name} cell {i}: one output of {n / 1e3:.0f} kB, over the {MAX_OUTPUT / 1e3:.0f} kB cap"
        html = "".join(o.get("data", {}).get("text/html", []))
        assert PLOTLY_JS not in html, (f"{path.name} cell {i} embeds plotly.js: set "
                                       "plotly.io.renderers.default = 'plotly_mimetype'")
