"""The layer build: compiled with unchecked-hash bytecode, catalogs compiled, font inside; after a zip round trip
every balcao module loads from its .pyc (the sources are replaced by code that would fail if it were read)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from devstack.template import ROOT

LAYER = ROOT / "layers" / "core"


@pytest.fixture(scope="module")
def built_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    artifacts = tmp_path_factory.mktemp("layer")
    machine = "aarch64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-C",
            str(LAYER),
            "build-CoreLayer",
            f"ARTIFACTS_DIR={artifacts}",
            f"ARCH={machine}",
            f"PYTHON={base_python}",
        ],
        check=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    archive = tmp_path_factory.mktemp("zip") / "layer.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in artifacts.rglob("*"):
            zipped.write(path, path.relative_to(artifacts))
    unzipped = tmp_path_factory.mktemp("unzipped")
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(unzipped)
    return unzipped / "python"


def balcao_modules(root: Path) -> list[str]:
    modules = []
    for source in sorted((root / "balcao").rglob("*.py")):
        parts = source.relative_to(root).with_suffix("").parts
        modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


@pytest.mark.slow
def test_every_module_loads_from_its_bytecode_after_a_zip_round_trip(built_layer: Path):
    # Given the built layer, unzipped (timestamps rewritten), with every source replaced by failing code
    modules = balcao_modules(built_layer)
    assert len(modules) > 20
    for source in (built_layer / "balcao").rglob("*.py"):
        source.write_text("raise ImportError('the source was read instead of the bytecode')\n")
    # When a fresh interpreter imports every module with only the layer on its path
    script = (
        "import importlib, sys; sys.path.insert(0, sys.argv[1]); "
        "[importlib.import_module(m) for m in sys.argv[2:]]; "
        "import balcao; print(balcao.__spec__.cached)"
    )
    base_python = getattr(sys, "_base_executable", sys.executable)
    result = subprocess.run(
        [base_python, "-S", "-c", script, str(built_layer), *modules], capture_output=True, text=True, check=False
    )
    # Then all of them load (from unchecked-hash .pyc files)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "__pycache__" in result.stdout


def test_the_layer_holds_compiled_catalogs_and_the_font(built_layer: Path):
    translations = built_layer / "balcao" / "web" / "translations"
    assert sorted(p.parent.parent.name for p in translations.rglob("core.mo")) == ["en", "es", "pt_BR"]
    assert not list(translations.rglob("*.po"))
    assert (built_layer / "balcao" / "web" / "fonts" / "DejaVuSans.ttf").stat().st_size > 500_000


def test_the_layer_holds_every_template_compiled(built_layer: Path):
    web = built_layer / "balcao" / "web"
    templates = [p for p in (web / "templates").rglob("*") if p.is_file()]
    text_partials = [p for p in templates if p.suffix == ".txt" and p.name.startswith("_")]
    compiled = list((web / "compiled-templates").glob("__jinja2_*.cache"))
    assert len(compiled) == len(templates) + len(text_partials) > 100


def test_bytecode_is_unchecked_hash_based(built_layer: Path):
    pyc = next((built_layer / "balcao" / "domain" / "__pycache__").glob("money.cpython-313.pyc"))
    flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
    assert flags == 0b01  # hash-based, check_source off
