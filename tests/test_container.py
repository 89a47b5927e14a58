"""The Docker image's recipe, checked where no Docker engine is needed: the build context holds every file the
Dockerfile copies, and CI's container step skips cleanly, saying why, on a machine without a Docker engine."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_the_build_context_holds_every_file_the_dockerfile_copies() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    let_in = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "*" in ignore, "everything not let in stays out of the build context (secrets, beacon.yaml, databases)"
    copied = [source for line in (ROOT / "Dockerfile").read_text().splitlines()
              if line.startswith("COPY ") and "--from=" not in line
              for source in line.split()[1:-1]]
    assert "constraints.txt" in copied
    for source in copied:
        assert source.rstrip("/") in let_in, f"the Dockerfile copies {source}, which .dockerignore keeps out"
        assert (ROOT / source).exists()


def test_the_image_is_built_in_stages_and_runs_as_a_user_not_root() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.M)) == 2
    assert "--no-cache-dir -c constraints.txt ." in dockerfile
    assert re.search(r"^USER 10001", dockerfile, re.M)


def test_ci_skips_the_container_step_where_no_docker_engine_answers(tmp_path: Path) -> None:
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    run = subprocess.run(["bash", ".ci/docker"], cwd=ROOT, env=env, capture_output=True, text=True,  # noqa: S607
                         timeout=60, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("== Docker: skipped: no ")
