"""The endpoints a client and the ``sdxl`` command name by a word rather than a URL. Apart
from :mod:`sdxl_adapter.client`, which loads boto3: the command line parses them first."""

from __future__ import annotations

AWS = "aws"  # Amazon Bedrock, through the AWS configuration and credential chain
MOCK = "mock"  # the in-process mock
