"""A local Bedrock Runtime for Stability SDXL 1.0 that real AWS clients call unchanged.

One WSGI application (:class:`MockBedrock`), two doors to it: in process
(:func:`mock_sdxl`, through botocore's event hooks) and over HTTP (:class:`MockServer`).
"""

from mock_bedrock.doors.inprocess import MockHandle, mock_sdxl
from mock_bedrock.doors.server import MockServer
from mock_bedrock.placeholder import read_parameters
from mock_bedrock.service.app import DropConnection, MockBedrock
from mock_bedrock.service.faults import FaultRule, FaultRuleError, FaultSet
from mock_bedrock.service.journal import Journal, JournalEntry

__all__ = [
    "DropConnection",
    "FaultRule",
    "FaultRuleError",
    "FaultSet",
    "Journal",
    "JournalEntry",
    "MockBedrock",
    "MockHandle",
    "MockServer",
    "mock_sdxl",
    "read_parameters",
]
