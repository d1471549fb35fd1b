"""Test-suite wiring.

The mock's pytest plugin is loaded here until the package registers it through the
``pytest11`` entry point; once it does, delete this line (loading it twice is an error).
"""

pytest_plugins = ["mock_bedrock.pytest_plugin"]
