"""Finding a handler: a callable from a cell, or `module.function` imported fresh per environment.

Lambda imports your module once per execution environment, so module globals (connections,
caches, Powertools' cold-start flag) live as long as that environment. Importing a fresh module
object per environment, outside `sys.modules`, gives the same lifetime here.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from .errors import ConfigurationError

Handler = Callable[[object, object], object]


def describe(handler: object) -> str:
    return handler if isinstance(handler, str) else getattr(handler, "__qualname__", repr(handler))


def find_spec(module_name: str, code_dir: str | None):
    """The module's spec: from `code_dir` when given (a service's own folder), else from sys.path."""
    if code_dir is None:
        return importlib.util.find_spec(module_name)
    base = Path(code_dir, *module_name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return importlib.util.spec_from_file_location(module_name, candidate)
    return None


def check_callable(name: str, handler: object, code_dir: str | None = None) -> None:
    """Fail at definition time, with one line, on what would only fail at invoke time on AWS."""
    if isinstance(handler, str):
        module_name, _, attribute = handler.rpartition(".")
        if not module_name or not attribute:
            raise ConfigurationError(
                f"function '{name}': handler {handler!r} is not a 'module.function' path, e.g. 'orders.create'"
            )
        try:
            spec = find_spec(module_name, code_dir)
        except (ImportError, ValueError) as exc:
            spec, detail = None, f"{type(exc).__name__}: {exc}"
        else:
            detail = f"no such module in {code_dir}" if code_dir else "no such module on sys.path"
        if spec is None:
            raise ConfigurationError(
                f"function '{name}': cannot find module '{module_name}' for handler {handler!r} ({detail}); "
                "put the file next to the notebook or pass code_dir=..."
            )
        return
    if not callable(handler):
        raise ConfigurationError(
            f"function '{name}': handler must be a function `def handler(event, context)` or a 'module.function' "
            f"path, not {type(handler).__name__}"
        )
    try:
        inspect.signature(handler).bind(None, None)
    except TypeError:
        raise ConfigurationError(
            f"function '{name}': handler {describe(handler)}{inspect.signature(handler)} must accept two "
            "arguments, (event, context)"
        ) from None
    except ValueError:  # builtins without a signature: let AWS-style errors surface at invoke time
        pass


def load(handler: str | Handler, code_dir: str | None = None) -> tuple[Handler, ModuleType | None]:
    """Import a module handler afresh (raises ImportError-like errors for the runtime to report)."""
    if not isinstance(handler, str):
        return handler, None
    module_name, _, attribute = handler.rpartition(".")
    spec = find_spec(module_name, code_dir)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named '{module_name}'")
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(module_name)
    sys.modules[module_name] = module  # during exec only: dataclasses and pickling look it up
    if code_dir is not None:
        sys.path.insert(0, code_dir)  # the task root comes first, as on Lambda: sibling modules import
    try:
        spec.loader.exec_module(module)
    finally:
        if code_dir is not None and sys.path and sys.path[0] == code_dir:
            sys.path.pop(0)
        if previous is not None:
            sys.modules[module_name] = previous
        else:
            sys.modules.pop(module_name, None)
    function = getattr(module, attribute, None)
    if function is None:
        raise AttributeError(f"Handler '{attribute}' missing on module '{module_name}'")
    return function, module
