"""A local Bedrock Runtime for Stability's image models (SD3.5 Large, Stable Image Core and
Ultra, SDXL 1.0) that real AWS clients call unchanged.

One WSGI application (:class:`MockBedrock`), two doors to it: in process
(:func:`mock_image_models`, first named ``mock_sdxl``; through botocore's event hooks) and
over HTTP (:class:`MockServer`).

Names are imported on first use (PEP 562): the pytest plugin loads with this package in
every test run of a project that has it installed, and must cost that run nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bedrock_contract.lazy import export

if TYPE_CHECKING:  # the names below, for type checkers (re-exported, hence "as")
    from bedrock_contract.retired import EndOfLifeWarning as EndOfLifeWarning
    from bedrock_contract.version import __version__ as __version__
    from mock_bedrock.doors.inprocess import (
        MockHandle as MockHandle,
        mock_image_models as mock_image_models,
        mock_sdxl as mock_sdxl,
    )
    from mock_bedrock.doors.server import (
        MockServer as MockServer,
    )
    from mock_bedrock.placeholder import (
        read_parameters as read_parameters,
    )
    from mock_bedrock.service.app import (
        DropConnection as DropConnection,
        MockBedrock as MockBedrock,
    )
    from mock_bedrock.service.faults import (
        FaultRule as FaultRule,
        FaultRuleError as FaultRuleError,
        FaultSet as FaultSet,
    )
    from mock_bedrock.service.journal import (
        Journal as Journal,
        JournalEntry as JournalEntry,
    )

_HOMES = {
    "__version__": "bedrock_contract.version",
    "MockHandle": "mock_bedrock.doors.inprocess",
    "mock_image_models": "mock_bedrock.doors.inprocess",
    "mock_sdxl": "mock_bedrock.doors.inprocess",  # its first name
    "MockServer": "mock_bedrock.doors.server",
    "read_parameters": "mock_bedrock.placeholder",
    "DropConnection": "mock_bedrock.service.app",
    "MockBedrock": "mock_bedrock.service.app",
    "EndOfLifeWarning": "bedrock_contract.retired",
    "FaultRule": "mock_bedrock.service.faults",
    "FaultRuleError": "mock_bedrock.service.faults",
    "FaultSet": "mock_bedrock.service.faults",
    "Journal": "mock_bedrock.service.journal",
    "JournalEntry": "mock_bedrock.service.journal",
}
__all__ = sorted(name for name in _HOMES if not name.startswith("__"))


def __getattr__(name: str) -> Any:
    return export(__name__, _HOMES, name)
