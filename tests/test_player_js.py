"""The JS tests' copy of the page's reason codes."""

import json
from pathlib import Path

from viewers.player.views import REASONS

ROOT = Path(__file__).resolve().parents[1]


def test_the_js_tests_reason_codes_are_the_pages():
    # tests/js/ runs in node, without Django: it reads the codes from this copy.
    assert json.loads((ROOT / "tests/js/reasons.json").read_text()) == REASONS
