"""`tandem risk screen` and `tandem risk evaluate`, as the contract describes them (in this process:
tests/support/cli.py)."""

from __future__ import annotations

import json

import pytest

from tests.support.cli import tandem

pytestmark = pytest.mark.slow(seconds=5)  # the evaluation screens the whole corpus: started first (tests/conftest.py)


def _screen(lines: list[str], *args: str) -> list[dict]:
    done = tandem("risk", "screen", *args, stdin="\n".join(lines) + "\n")
    assert done.exit_code == 0, done.stderr
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
    # The first two batches (written with the rules) keep their in-sample bar; new batches are
    # measured by cross-validation (tests/risk/test_model.py).
    for lang in ("en", "fr"):
        done = tandem("risk", "evaluate", "--json", "--set", f"tests/risk/labelled/{lang}.tsv")
        assert done.exit_code == 0, done.stdout + done.stderr
        scores = json.loads(done.stdout)["languages"][lang]
        assert scores["sensitivity"] >= 0.97 and scores["specificity"] >= 0.95 and scores["high_risk_recall"] >= 0.95


def test_evaluation_of_the_corpus_prints_every_kind_of_figure() -> None:
    done = tandem("risk", "evaluate")
    table = done.stdout
    for heading in ("[en]", "[fr]", "in-sample", "cross-validated by batch", "held out: en-w1-01.tsv",
                    "[conversations en]", "whole exchange", "first sight", "per level"):  # fmt: skip
        assert heading in table, heading
    assert "en-w1-01.tsv" in table  # a first-sight row
