"""`tandem risk screen` and `tandem risk evaluate`, as the contract describes them."""

from __future__ import annotations

import json
import subprocess

from tests.support.server import TANDEM, tandem_env


def _screen(lines: list[str], *args: str) -> list[dict]:
    done = subprocess.run(
        [TANDEM, "risk", "screen", *args],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=tandem_env(),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_one_json_result_per_input_line_with_level_categories_and_evidence() -> None:
    results = _screen(["this exam is killing me", "I've written my goodbye letters", "je veux mourir"])
    assert [r["level"] for r in results] == ["none", "high", "low"]
    assert {"level", "categories", "evidence"} <= set(results[1])
    assert results[1]["categories"] == ["goodbye"]
    assert "goodbye letters" in results[1]["evidence"][0]["text"]


def test_lang_option_selects_the_rule_set() -> None:
    [french] = _screen(["je ne me suiciderais jamais"], "--lang", "fr")
    assert french["level"] == "none"
    [plan] = _screen(["j'ai acheté des médicaments pour en finir"], "--lang", "fr", "--json")
    assert plan["level"] == "high"


def test_evaluation_meets_its_targets_and_prints_them() -> None:
    done = subprocess.run(
        [TANDEM, "risk", "evaluate", "--json"], capture_output=True, text=True, env=tandem_env(), timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    for lang in ("en", "fr"):
        scores = report["languages"][lang]
        assert scores["sensitivity"] >= 0.97 and scores["specificity"] >= 0.95 and scores["high_risk_recall"] >= 0.95
