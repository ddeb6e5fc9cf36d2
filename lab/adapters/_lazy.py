"""Modules imported on first use, so that `lab up` answers before heavy libraries load.

``aiosmtplib`` and ``dns`` (dnspython) are needed only when the lab sends its first message or
asks its first DNS question; the standard library's LazyLoader defers executing them until an
attribute is first read.
"""
from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy(name: str) -> ModuleType:
    """``name`` as a module whose code runs when one of its attributes is first used."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:  # as the import system does: ``import a.b`` makes ``b`` an attribute of ``a``
        setattr(sys.modules[parent], child, module)
    return module
