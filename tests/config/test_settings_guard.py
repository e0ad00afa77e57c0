"""The test suite refuses to run with any settings but its own (tests/conftest.py)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pytest(settings_module: str | None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    if settings_module:
        env["DJANGO_SETTINGS_MODULE"] = settings_module
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/cms/test_formatting.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tests_refuse_a_benchmark_s_settings_from_the_environment():
    run = _pytest("config.settings.bench")

    assert run.returncode == 4, run.stdout + run.stderr
    assert "The tests run with config.settings.test, not config.settings.bench" in run.stderr


def test_the_tests_collect_with_their_own_settings():
    run = _pytest(None)

    assert run.returncode == 0, run.stdout + run.stderr
    assert "test_formatting.py" in run.stdout
