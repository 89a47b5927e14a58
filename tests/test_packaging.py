"""Installed, Beacon is `beacon.*` and nothing else: the folders bot/, handlers/, scheduler/ and content/ keep their
places in the repository, but no generic top-level name ("handlers", "scheduler") lands in site-packages, where it
would collide with any other package of that name."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("bot", "handlers", "scheduler", "content")


def _setuptools() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]  # type: ignore[no-any-return]


def test_every_package_folder_is_installed_under_beacon() -> None:
    listed = set(_setuptools()["packages"])  # type: ignore[call-overload]
    folders = {"beacon." + ".".join(module.parent.relative_to(ROOT).parts)
               for folder in FOLDERS for module in (ROOT / folder).rglob("*.py") if "__pycache__" not in module.parts}
    data = {"beacon.bot.sandbox.static"}  # no Python in it: listed so that setuptools installs it without guessing
    assert listed == folders | data, "pyproject.toml [tool.setuptools] packages must list every folder of Python files"


def test_code_imports_beacon_by_its_installed_name_only() -> None:
    """`import bot...` would work by accident from the repository root and load every module a second time."""
    bare = []
    for folder in (*FOLDERS, "tests", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
                bare += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names if n.split(".")[0] in FOLDERS]
    assert bare == []


def test_the_built_wheel_holds_no_generic_top_level_name(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: building writes build/ and *.egg-info beside the sources
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "build", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "test-output", "*.db*"))
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
             "--wheel-dir", str(tmp_path), str(source)]
    subprocess.run(build, check=True, capture_output=True, timeout=300)  # noqa: S603 (our interpreter, our tree)
    [wheel] = tmp_path.glob("beacon-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {"beacon", next(t for t in top if t.endswith(".dist-info"))}, top
    for needed in ("beacon/bot/cli.py", "beacon/bot/migrations/env.py", "beacon/bot/migrations/script.py.mako",
                   "beacon/bot/migrations/versions/0001_processed_event.py", "beacon/content/values.yaml",
                   "beacon/bot/sandbox/static/index.html", "beacon/handlers/awards.py", "beacon/scheduler/pulses.py"):
        assert needed in names, f"{needed} is missing from the wheel"
    entry = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "beacon = beacon.bot.cli:main" in entry
