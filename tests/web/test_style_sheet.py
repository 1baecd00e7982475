"""The style sheet parses as written: a merge of two blocks appended at its end once dropped a
closing brace, and every rule after it silently applied to phones only."""

import re

from tests.conftest import ROOT

STYLE_SHEET = ROOT / "app" / "static" / "app.css"


def test_every_block_of_the_style_sheet_is_closed_where_it_ends():
    text = re.sub(r"/\*.*?\*/", "", STYLE_SHEET.read_text(), flags=re.S)
    text = re.sub(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'", "''", text)
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"app.css line {number}: a brace closes nothing"
        if line.startswith(("/*", "@media", ".", "#", "table", "html", "body", ":root")):
            # A top-level rule or at-rule starts at the first column: nothing may be open.
            assert depth == line.count("{") - line.count("}"), (
                f"app.css line {number} starts at the top level inside an open block"
            )
    assert depth == 0, "app.css ends with a block still open"
