"""The engine version stamped on every result: code version plus a fingerprint of the rule files.

A reviewed change to any rule file changes the version, so an alert can always be traced to the
exact rules that raised it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

RULES_DIR = Path(__file__).parent / "rules"
CODE_VERSION = "1.0.0"


def rules_fingerprint(rules_dir: Path = RULES_DIR) -> str:
    digest = hashlib.sha256()
    for path in sorted(rules_dir.glob("*.toml")):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:12]


ENGINE_VERSION = f"tandem-risk/{CODE_VERSION}+rules.{rules_fingerprint()}"
