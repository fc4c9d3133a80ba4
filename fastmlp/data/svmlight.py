"""svmlight / libsvm files: one row per line, its label first, then its non-zero inputs as
index:value pairs in increasing index order, read into a CSR matrix (the rows stay sparse).

    <label> <index>:<value> <index>:<value> ...  [# comment]

The format LIBSVM, LIBLINEAR and XGBoost read and write. Blank lines and lines that hold only a
comment are skipped. Indices are one-based in LIBSVM's files and zero-based in some others:
`zero_based` "auto" takes a file with an index 0 as zero-based and any other as one-based;
true or false says which. The width is `width` when given (an index at or past it is an error),
else the highest index + 1. What is refused, each with one line naming the file and line: a
token that is not index:value, an index that does not increase along its line, a negative index
(or 0 in a one-based file), an index past the width, a label that is not a number, and `qid:`
(ranking groups, which training a classifier or regressor would silently drop).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import DataError
from .source import existing_file, reason


class Svmlight(NamedTuple):
    X: object  # a float64 CSR matrix
    y: np.ndarray  # the labels (empty when read without them)
    lines: np.ndarray  # the 1-based file line of each row
    zero_based: bool  # the indexing the file was read with (what "auto" decided)


def read_svmlight_arrays(path, width=None, zero_based="auto", what="data file", labels=True) -> Svmlight:
    """An svmlight file's rows, labels and lines, and the indexing used ("auto" decided by this
    file; a model's own files pass the training file's). width: see the module docstring.
    labels=False (rows to predict on): a line may leave its label out, and labels are not read."""
    path = existing_file(Path(path).expanduser(), what)
    text = _text(path)
    label_tokens, idx_tokens, val_tokens, lengths, lines = [], [], [], [], []
    for number, line in enumerate(text.splitlines(), 1):
        tokens = line.split("#", 1)[0].split()
        if not tokens:
            continue
        if ":" in tokens[0] and not tokens[0].startswith("qid:"):
            if labels:
                raise DataError(
                    f"{path}: line {number}: starts with {tokens[0]!r}; a line starts with its label"
                )
            tokens = ["", *tokens]
        label_tokens.append(tokens[0])
        lines.append(number)
        if len(tokens) > 1 and tokens[1].startswith("qid:"):
            raise DataError(
                f"{path}: line {number}: qid (ranking groups) is not read; remove the qid:<n> tokens "
                "to train on the rows without their groups"
            )
        for token in tokens[1:]:
            index, colon, value = token.partition(":")
            if not colon or not index or not value:
                raise DataError(f"{path}: line {number}: {token!r} is not index:value")
            idx_tokens.append(index)
            val_tokens.append(value)
        lengths.append(len(tokens) - 1)
    if not lines:
        raise DataError(f"{path}: no rows (every line is blank or a comment)")
    lines = np.asarray(lines, np.int64)
    indptr = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=indptr[1:])
    indices = _numbers(idx_tokens, np.int64, "index", path, indptr, lines)
    values = _numbers(val_tokens, np.float64, "value", path, indptr, lines)
    y = _labels(label_tokens, path, lines) if labels else np.empty(0)
    if zero_based == "auto":
        zero_based = bool(indices.size) and int(indices.min()) == 0
    indices = _checked_indices(indices, indptr, lines, path, width, zero_based, what)
    n_cols = width if width is not None else (int(indices.max()) + 1 if indices.size else 1)
    import scipy.sparse as sp

    X = sp.csr_matrix((values, indices, indptr), shape=(len(lines), n_cols))
    return Svmlight(X, y, lines, zero_based)


def _text(path: Path) -> str:
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rt", encoding="utf-8") as f:
                return f.read()
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, EOFError) as e:
        raise DataError(f"{path}: not a readable svmlight file ({reason(e)})") from None


def _row_of(position, indptr):
    """The row holding the position-th index:value pair."""
    return int(np.searchsorted(indptr, position, side="right")) - 1


def _numbers(tokens, dtype, what, path, indptr, lines):
    """The tokens as numbers of dtype; DataError naming the line of the first that is not one."""
    try:
        return np.array(tokens, dtype=dtype) if tokens else np.empty(0, dtype)
    except (ValueError, OverflowError):
        convert = int if dtype == np.int64 else float
        for position, token in enumerate(tokens):
            try:
                convert(token)
            except (ValueError, OverflowError):
                line = lines[_row_of(position, indptr)]
                raise DataError(f"{path}: line {line}: {what} {token!r} is not a number") from None
        raise


def _labels(labels, path, lines):
    """Integers when every label is one (class labels), else floats; a label that is neither is
    refused with its line (a comma-separated label list means several labels: not read)."""
    try:
        return np.array(labels, dtype=np.int64)
    except (ValueError, OverflowError):
        pass
    for i, label in enumerate(labels):
        try:
            float(label)
        except ValueError:
            hint = " (several labels per row are not read)" if "," in label else ""
            raise DataError(f"{path}: line {lines[i]}: label {label!r} is not a number{hint}") from None
    y = np.array(labels, dtype=np.float64)
    if not np.isfinite(y).all():
        i = int(np.flatnonzero(~np.isfinite(y))[0])
        raise DataError(f"{path}: line {lines[i]}: label {labels[i]!r} is not finite")
    return y


def _checked_indices(indices, indptr, lines, path, width, zero_based, what):
    """Zero-based column indices, increasing along each row and inside the width."""
    if indices.size == 0:
        return indices
    row_start = np.zeros(indices.size, bool)
    row_start[indptr[:-1][indptr[:-1] < indices.size]] = True
    bad = np.flatnonzero(~row_start[1:] & (np.diff(indices) <= 0))
    if bad.size:
        p = int(bad[0]) + 1
        raise DataError(
            f"{path}: line {lines[_row_of(p, indptr)]}: index {int(indices[p])} after "
            f"{int(indices[p - 1])}; indices must increase along a line"
        )
    lowest = int(indices.min())
    if lowest < (0 if zero_based else 1):
        p = int(np.argmin(indices))
        where = f"{path}: line {lines[_row_of(p, indptr)]}: index {lowest}"
        if lowest < 0:
            raise DataError(f"{where} is negative")
        raise DataError(f"{where}; the file is read as one-based (indices from 1): set data.zero_based: true")
    if not zero_based:
        indices = indices - 1
    if width is not None and int(indices.max()) >= width:
        p = int(np.argmax(indices >= width))  # the first pair past it, in file order
        shown = int(indices[p]) + (0 if zero_based else 1)
        raise DataError(
            f"{path}: line {lines[_row_of(p, indptr)]}: index {shown} is past the {width} input columns "
            f"({'the model has' if what == 'input file' else 'set data.width to read more'})"
        )
    return indices
