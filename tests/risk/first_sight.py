"""Take in a new labelled batch: copy it into tests/risk/labelled and screen it once, as the engine stands.

Run from the repository root, BEFORE changing anything in response to the batch:
    python tests/risk/first_sight.py /path/to/en-w1-01.tsv [/path/to/conv-en-01.jsonl ...]
It prints one Markdown row per batch (the first-sight score) and appends it to the table of
tests/risk/labelled/README.md. A batch already in the folder is refused: a batch is seen once.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LABELLED = ROOT / "tests" / "risk" / "labelled"
README = LABELLED / "README.md"
TABLE_END = "<!-- first-sight rows end -->"


def main(paths: list[str]) -> int:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from service.risk.evaluation import first_sight_row

    rows = []
    for name in paths:
        source = Path(name)
        folder = LABELLED / "conversations" if source.suffix == ".jsonl" else LABELLED
        target = folder / source.name
        if target.exists():
            print(f"{source.name}: already taken in, not screened again", file=sys.stderr)
            continue
        folder.mkdir(exist_ok=True)
        shutil.copyfile(source, target)
        rows.append(first_sight_row(target))
    if rows:
        text = README.read_text(encoding="utf-8")
        text = text.replace(TABLE_END, "\n".join(rows) + "\n" + TABLE_END)
        README.write_text(text, encoding="utf-8")
        print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
