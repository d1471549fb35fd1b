"""What users expect of any Python tool: ``--version`` on both commands and ``__version__`` in
each package, all the installed distribution's version; ``python -m`` for both packages."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.support.served import serving

BIN = Path(sys.executable).parent
VERSION = version("sdxl-bedrock")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("command", ["sdxl", "mock-bedrock"])
def test_each_command_prints_the_distribution_version(command: str) -> None:
    result = run(str(BIN / command), "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{command}, version {VERSION}\n"


def test_every_package_has_the_distribution_version_and_stays_lazy() -> None:
    probe = (
        "import sys, sdxl_adapter, mock_bedrock\n"
        # The packages share bedrock_contract's lazy exports; nothing that reads a contract,
        # validates or calls is loaded.
        "print(any(name in sys.modules for name in ('bedrock_contract.catalogue', "
        "'bedrock_contract.validation', 'jsonschema', 'botocore')))\n"
        "import bedrock_contract\n"
        "print(sdxl_adapter.__version__, mock_bedrock.__version__, bedrock_contract.__version__)\n"
        "print('__version__' in sdxl_adapter.__all__ or '__version__' in mock_bedrock.__all__)\n"
    )
    result = run(sys.executable, "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["False", f"{VERSION} {VERSION} {VERSION}", "False"]


def test_python_m_sdxl_adapter_is_the_sdxl_command() -> None:
    result = run(sys.executable, "-m", "sdxl_adapter", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: sdxl [OPTIONS] COMMAND [ARGS]...")
    assert run(sys.executable, "-m", "sdxl_adapter", "--version").stdout.startswith("sdxl, ")


def _blocked_signals(pid: int, thread: str) -> int:
    status = Path(f"/proc/{pid}/task/{thread}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines()
                    if line.startswith("SigBlk:")), 16)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads Linux's /proc")
def test_serve_waits_for_sigterm_and_sigint_with_sigwait_in_its_main_thread() -> None:
    # A stop signal must not go through a Python handler: one handled by another thread only
    # flags it, and a flag raised just before the main thread sleeps is seen an hour later.
    # So every thread blocks them, and the main thread takes them from the kernel.
    with serving() as served:
        pid = served.process.pid
        assert served.url.startswith("http://127.0.0.1:")
        threads = [t for t in os.listdir(f"/proc/{pid}/task") if t != str(pid)]
        assert threads  # the accept loop, at least
        stop = (1 << (signal.SIGTERM - 1)) | (1 << (signal.SIGINT - 1))
        assert all(_blocked_signals(pid, t) & stop == stop for t in threads)
        deadline = time.monotonic() + 30  # the main thread may still be printing
        while "sigtimedwait" not in (wchan := Path(f"/proc/{pid}/wchan").read_text()):
            assert time.monotonic() < deadline, wchan
            time.sleep(0.01)
        code, _, _ = served.stop()
    assert code == 0


def test_a_second_stop_signal_during_the_stop_ends_it_quietly() -> None:
    with serving() as served:
        served.process.send_signal(signal.SIGINT)
        code, _, stderr = served.stop(signal.SIGINT)  # a second Ctrl-C
    assert (code, stderr) == (0, "")


def test_python_m_mock_bedrock_serves_and_prints_its_url() -> None:
    with serving() as served:
        assert served.url.startswith("http://127.0.0.1:")
        code, _, stderr = served.stop()
    assert code == 0, stderr
    help_text = run(sys.executable, "-m", "mock_bedrock", "--help").stdout
    assert help_text.startswith("Usage: mock-bedrock [OPTIONS] COMMAND [ARGS]...")


def test_mock_bedrock_help_names_every_family_by_the_id_to_call() -> None:
    from bedrock_contract import default_catalogue

    help_text = run(sys.executable, "-m", "mock_bedrock", "--help").stdout
    listed = [line.split()[0] for line in help_text.splitlines()
              if line.startswith("  ") and line.rstrip().endswith(")") and "(" in line]
    assert listed == [contract.invocation_id for contract in default_catalogue()]


def test_every_fixture_of_the_plugin_says_what_it_is(tmp_path: Path) -> None:
    found = subprocess.run([sys.executable, "-m", "pytest", "--fixtures", "-q",
                            "-p", "mock_bedrock.testing.pytest_plugin"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120,
                           env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    listing = found.stdout[found.stdout.index("from mock_bedrock.testing.pytest_plugin"):]
    for fixture in ("mock_bedrock", "bedrock_runtime", "mock_bedrock_server",
                    "mock_bedrock_endpoint"):
        assert f"\n{fixture} " in listing or f"\n{fixture} [" in listing, fixture
    assert "no docstring available" not in listing
