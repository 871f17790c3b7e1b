"""The template as a dict for the tests; the implementation lives in local/template.py."""

from __future__ import annotations

from typing import Any

from local.template import TEMPLATE_PATH
from local.template import load_template as _load_template


def load_template() -> dict[str, Any]:
    """The repository's template.yaml, CloudFormation short tags in their long form."""
    return _load_template(TEMPLATE_PATH)
