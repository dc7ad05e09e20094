"""The README's "Running a clinic" commands, run as written: a fresh database, a clinic, a clinician,
an invited client who then activates over the API (issue 16: "invitation code is not valid")."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server import PROJECT_ROOT, running_server, tandem_env

pytestmark = pytest.mark.slow(seconds=30)  # the README's commands as processes: started first (tests/conftest.py)

INSTALL_LINES = ("bash infra/scripts/system-deps.sh", "python3 -m venv .venv")
SERVE_LINE = ".venv/bin/tandem serve --host 0.0.0.0 --port 8000"


def _running_a_clinic_blocks() -> list[str]:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Running a clinic") :]
    section = section[: section.index("\n## ", 1)]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's activation uses curl")
def test_the_readme_commands_onboard_a_client_who_can_activate(tmp_path: Path) -> None:
    setup, activation = _running_a_clinic_blocks()
    assert "var/tandem.db" in setup and "tandem clinic list --json" in setup
    lines = setup.rstrip("\n").split("\n")
    assert lines[-1].startswith(SERVE_LINE)
    # The installation is this test's own virtualenv; the server is started below on a free loopback port.
    commands = "\n".join(line for line in lines[:-1] if not line.startswith(INSTALL_LINES))
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    env = tandem_env()
    env.pop("TANDEM_DATABASE_URL", None)

    done = subprocess.run(
        ["bash", "-e", "-c", commands], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    invitation = json.loads((tmp_path / "var" / "invitation.json").read_text())
    assert invitation["invite_code"]

    database = f"sqlite:///{tmp_path / 'var' / 'tandem.db'}"
    with running_server(env={"TANDEM_DATABASE_URL": database}) as base:
        activated = subprocess.run(
            ["bash", "-e", "-c", activation.replace("http://127.0.0.1:8000", base)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert activated.returncode == 0, activated.stderr
    tokens = json.loads(activated.stdout)
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
