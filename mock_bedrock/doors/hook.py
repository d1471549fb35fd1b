"""The in-process door's hooks in botocore: dormant handlers that every session carries.
While a mock is active, ``before-send`` hands a call to it, and ``choose-signer`` leaves the
call unsigned when the mock checks no signatures, so a client made without credentials (one
made at import, on a machine that has none) works all the same.

Kept apart from :mod:`mock_bedrock.doors.inprocess` so that the pytest plugin can put it in
place early (a user's test modules make clients at import, before any fixture runs) without
importing the mock, or botocore itself in a project that never imports it.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

EVENT = "before-send.bedrock-runtime"
UNIQUE_ID = "mock_bedrock.doors.inprocess"
SIGNER_EVENT = "choose-signer.bedrock-runtime"
SIGNER_UNIQUE_ID = "mock_bedrock.doors.inprocess.signer"
_INPROCESS = "mock_bedrock.doors.inprocess"
_lock = threading.Lock()
_installed = False


def before_send(request: Any, **kwargs: Any) -> Any:
    """Dormant until the in-process door is imported (nothing can be mocked before)."""
    door = sys.modules.get(_INPROCESS)
    return None if door is None else door.answer_if_active(request)


def choose_signer(**kwargs: Any) -> Any:
    """Dormant likewise: botocore.UNSIGNED while a mock that checks no signature is active,
    else None (botocore signs as usual)."""
    door = sys.modules.get(_INPROCESS)
    return None if door is None else door.unsigned_if_active()


# The control plane's operations the mock answers (bedrock_contract.service's
# CONTROL_OPERATIONS, not imported: this module must not load botocore); every other
# operation of the ``bedrock`` service goes its usual way (to moto inside mock_aws()).
CONTROL_EVENTS = tuple(f"bedrock.{operation}"
                       for operation in ("GetFoundationModel", "ListFoundationModels"))

# Each hook: its event, handler and unique id.
HOOKS: tuple[tuple[str, Callable[..., Any], str], ...] = (
    (EVENT, before_send, UNIQUE_ID),
    (SIGNER_EVENT, choose_signer, SIGNER_UNIQUE_ID),
    *((f"before-send.{event}", before_send, f"{UNIQUE_ID}.{event}")
      for event in CONTROL_EVENTS),
    *((f"choose-signer.{event}", choose_signer, f"{SIGNER_UNIQUE_ID}.{event}")
      for event in CONTROL_EVENTS),
)


def register(events: Any) -> None:
    """Put the hooks on one event emitter (a session's or a client's), first."""
    for event, handler, unique_id in HOOKS:
        events.register_first(event, handler, unique_id=unique_id)


def install() -> None:
    """Every session made from now on carries the handlers (first, so it beats moto's
    catch-all); boto3's default session may already exist, so it gets it too. Once."""
    global _installed
    # Imported before the lock is taken: the import may itself run install() (through
    # install_when_botocore_loads's finder), which then does the work.
    from botocore.handlers import BUILTIN_HANDLERS, REGISTER_FIRST

    with _lock:
        if _installed:
            return
        BUILTIN_HANDLERS.extend((event, handler, REGISTER_FIRST)
                                for event, handler, _ in HOOKS)
        # boto3 may be half-imported here (it imports botocore): no default session yet.
        default = getattr(sys.modules.get("boto3"), "DEFAULT_SESSION", None)
        if default is not None:
            register(default._session.get_component("event_emitter"))
        _installed = True


def install_when_botocore_loads() -> None:
    """:func:`install` now if botocore is loaded, else right after it loads."""
    if "botocore.handlers" in sys.modules:
        install()
    else:
        sys.meta_path.insert(0, _AfterImport("botocore.handlers", install))


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs ``then`` once module ``name`` has been imported. Written by hand: no maintained
    library offers post-import hooks (PEP 369's were never added), and this is one module."""

    def __init__(self, name: str, then: Callable[[], None]) -> None:
        self.name, self.then = name, then

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)  # the real finders find the real module
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _ThenLoader(spec.loader, self.then)
        return spec


class _ThenLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader, then: Callable[[], None]) -> None:
        self._loader, self._then = loader, then

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        self._then()
