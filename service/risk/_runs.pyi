"""The compiled reader and scorer of the learned model (service/risk/_runs.c; model.py says what the
numbers are). Buffers are numpy arrays or bytes of int64 (ids, counts, codes) and float64 (weights, tf)."""

from typing import Any

import numpy as np

Buffer = bytes | np.ndarray[Any, Any]

READER_VERSION: int

def table(codes: Buffer) -> bytes: ...
def read(text: str, vocabulary: dict[str, int], table: bytes, word_codes: int) -> tuple[bytes, bytes, bytes]: ...
def score(
    ids: Buffer, counts: Buffer, sizes: tuple[int, int, int], weights: Buffer, tf: Buffer
) -> tuple[float, float, float]: ...
def evidence(
    text: str,
    ids: Buffer,
    counts: Buffer,
    firsts: Buffer,
    sizes: tuple[int, int, int],
    weights: Buffer,
    tf: Buffer,
    lengths: Buffer,
    level: int,
    candidates: int,
    shown: int,
) -> list[tuple[str, float]]: ...
