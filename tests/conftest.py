"""Test-suite wiring: the mock's pytest plugins load through the package's ``pytest11``
entry points, as they do for any user who installs it."""

from tests.doors import client, door  # noqa: F401  (fixtures for every test module)
