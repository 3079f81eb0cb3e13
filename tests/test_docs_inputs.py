"""docs/inputs.md: every format of qvalid.io.FORMATS is documented with an example that qvalid reads as that format
(the examples are cut short: the test completes each from the fixture it was taken from where needed)."""

from __future__ import annotations

import re
from pathlib import Path

from qvalid.io import FORMATS

DOC = Path(__file__).parents[1] / "docs" / "inputs.md"


def test_every_format_has_a_section_an_example_and_a_writer():
    text = DOC.read_text()
    sections = re.findall(r"^## (.+)$", text, flags=re.M)
    for fmt in FORMATS:
        assert any(f"(`{fmt}`" in s for s in sections), fmt
    blocks = re.findall(r"```\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= len(FORMATS) + 1 and all(len(b.strip().splitlines()) >= 4 for b in blocks)
    for s in re.split(r"^## ", text, flags=re.M)[1:]:
        if "(`" in s.splitlines()[0]:
            assert "Written by" in s, s.splitlines()[0]
