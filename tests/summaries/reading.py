"""Reading a PDF back the way a person (or a screen reader) meets it: its text, pages and pixels."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path


def pdf_text(pdf: bytes, *, layout: bool = True) -> str:
    """The text of every page (pages separated by form feeds), as poppler's pdftotext reads it."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "summary.pdf"
        source.write_bytes(pdf)
        args = ["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else []), str(source), "-"]
        done = subprocess.run(args, capture_output=True, check=True, timeout=60)
    return done.stdout.decode()


def pages(pdf: bytes, *, layout: bool = True) -> list[str]:
    return [page for page in pdf_text(pdf, layout=layout).split("\f") if page.strip()]


def ink_ratio(pdf: bytes, *, page: int = 1, dpi: int = 40) -> float:
    """The share of non-white pixels of one page, rendered in grey by pdftoppm (a PGM image)."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "summary.pdf"
        source.write_bytes(pdf)
        prefix = Path(folder) / "page"
        subprocess.run(
            ["pdftoppm", "-gray", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", str(source), prefix],
            check=True,
            timeout=60,
        )
        image = (Path(folder) / "page.pgm").read_bytes()
    width, height, pixels = _parse_pgm(image)
    assert len(pixels) == width * height
    return sum(1 for value in pixels if value < 240) / len(pixels)


def _parse_pgm(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and grey bytes of a binary PGM (P5, 8 bits)."""
    fields: list[bytes] = []
    position = 0
    while len(fields) < 4:
        while data[position : position + 1].isspace():
            position += 1
        if data[position : position + 1] == b"#":
            position = data.index(b"\n", position) + 1
            continue
        end = position
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[position:end])
        position = end
    assert fields[0] == b"P5" and int(fields[3]) == 255
    return int(fields[1]), int(fields[2]), data[position + 1 :]
