"""The engine version stamped on every result: code version, fingerprints of the rules and the model.

A reviewed change to any rule file, or a retrained model, changes the version, so an alert can
always be traced to the exact rules and model that raised it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

RULES_DIR = Path(__file__).parent / "rules"
LEARNED_DIR = Path(__file__).parent / "learned"
CODE_VERSION = "2.0.0"


def rules_fingerprint(rules_dir: Path = RULES_DIR, pattern: str = "*.toml") -> str:
    digest = hashlib.sha256()
    for path in sorted(rules_dir.glob(pattern)):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:12]


def model_fingerprint(learned_dir: Path = LEARNED_DIR) -> str:
    """A fingerprint of the learned models (learned/<lang>.json): retraining changes the version."""
    return rules_fingerprint(learned_dir, "*.json")


ENGINE_VERSION = f"tandem-risk/{CODE_VERSION}+rules.{rules_fingerprint()}+model.{model_fingerprint()}"
