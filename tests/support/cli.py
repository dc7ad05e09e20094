"""The `tandem` command run in this process with Typer's CliRunner: for tests of what a command
prints, refuses and writes, where starting a process is not the subject. A `tandem` process imports
the service anew (one to four seconds of start-up for each command); the process itself, its entry
point and its environment are tested where they matter (tests/test_readme_commands.py runs the
README's commands, tests/summaries/test_batch.py the batch on its process pool,
tests/security/test_key_rotation.py `tandem keys rewrap` with a new key ring)."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner, Result

from service.config import get_settings


def tandem(*args: str, stdin: str | None = None) -> Result:
    """`tandem ARGS`, with ``stdin`` as its input; the result's ``exit_code``, ``stdout`` and ``stderr``
    are those of the process it stands for."""
    from service.cli import app

    get_settings.cache_clear()  # the settings of the test's environment, as a new process reads them
    return CliRunner().invoke(app, list(args), input=stdin)


def tandem_json(*args: str, stdin: str | None = None) -> Any:
    """Run `tandem ARGS --json` and parse what it prints."""
    done = tandem(*args, "--json", stdin=stdin)
    assert done.exit_code == 0, (done.stderr, done.exception)
    return json.loads(done.stdout)
