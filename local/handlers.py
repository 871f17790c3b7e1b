"""The Lambda handlers loaded in this process and the environment they read, for the local runner and tests.

- ``load_handler(name)``: imports ``functions/<name>/app.py`` afresh, with the connector package on
  ``sys.path`` as the Lambda layer puts it, so its module-level wiring reads the current environment.
- ``connector_environment()``: the environment variables pointing the handlers at local resources;
  ``declared_environment()``: what template.yaml sets for both functions (parameter defaults).
- ``patched_environ()`` (a context manager) and ``apply_environment()`` (a ``pytest.MonkeyPatch``)
  set such an environment and restore the previous one afterwards.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from local.template import function_environment, resolve_parameters

if TYPE_CHECKING:
    from local.services import Resources

ROOT = Path(__file__).resolve().parent.parent
#: The folder `sam build` packs as the layer: the `connector` package lives directly in it.
LAYER = ROOT / "layers" / "connector"
#: The functions that read the connector's environment.
FUNCTION_IDS = ("IngestFunction", "BatchSenderFunction")

_loads = itertools.count()


class EnvironmentPatch(Protocol):
    """What ``apply_environment`` needs of ``pytest.MonkeyPatch``."""

    def setenv(self, name: str, value: str) -> None: ...

    def delenv(self, name: str, raising: bool = ...) -> None: ...


def layer_on_path() -> None:
    """The connector package importable, as the Lambda layer makes it (/opt/python)."""
    if str(LAYER) not in sys.path:
        sys.path.insert(0, str(LAYER))


def load_handler(name: str) -> ModuleType:
    """Import functions/<name>/app.py afresh: its module-level wiring reads the current environment.

    Powertools' parameter caches are cleared first, so no secret client or value of an earlier load
    (another environment) is reused.
    """
    layer_on_path()
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()
    spec = importlib.util.spec_from_file_location(
        f"local_{name}_app_{next(_loads)}", ROOT / "functions" / name / "app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def declared_environment(template: Mapping[str, Any]) -> dict[str, str]:
    """The literal environment variables template.yaml sets for both functions (parameters at their defaults).

    Values the template takes from its resources (queue URLs, the secret) are left out: they come from
    ``connector_environment``.
    """
    declared: dict[str, Any] = {}
    for function_id in FUNCTION_IDS:
        declared |= resolve_parameters(template, function_environment(template, function_id))
    return {name: value for name, value in declared.items() if isinstance(value, str)}


def connector_environment(resources: Resources, base_url: str, *, pixel_id: str, **settings: str) -> dict[str, str]:
    """The handlers' environment pointed at local resources: the queues, the secret, the pixel and OpenAI's
    base URL, then ``settings`` (more variables, or replacements)."""
    return {**resources.env(), "PIXEL_ID": pixel_id, "BASE_URL": base_url, **settings}


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` set, restored on exit."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def apply_environment(patch: EnvironmentPatch, env: Mapping[str, str]) -> None:
    """Set ``env`` through a ``pytest.MonkeyPatch``, without ACTIONS_CONFIG (the bundled actions document)."""
    for name, value in env.items():
        patch.setenv(name, value)
    patch.delenv("ACTIONS_CONFIG", raising=False)
