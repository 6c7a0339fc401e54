"""Assign printed groups to template rows: an order-preserving alignment that honours labels."""

from __future__ import annotations

from extractor.reader.tokens import Group

_FORBID = -1e6


def _score(row: int, group: Group, expected_cells: int) -> float:
    if group.label_row is not None:
        return 10.0 if group.label_row == row else _FORBID
    n = len(group.tokens)
    digits = sum(len(t.digits) for t in group.tokens)
    base = 1.0 if (n == expected_cells or (n < expected_cells and digits >= expected_cells)) else 0.2
    if n == 1 and expected_cells > 1 and digits < expected_cells:
        base = 0.05  # a stray single number (d011's displaced 「1」)
    bonus = 2.0 if group.prev_anchor_row == row else 0.0
    return base + bonus


def align(n_rows: int, groups: list[Group], expected_cells: list[int]) -> list[int | None]:
    """Return, for each row, the index of its group (or None). Dynamic programming over (row, group)."""
    m = len(groups)
    dp = [[0.0] * (m + 1) for _ in range(n_rows + 1)]
    back: list[list[int]] = [[0] * (m + 1) for _ in range(n_rows + 1)]  # 0 skip row, 1 skip group, 2 take
    for i in range(1, n_rows + 1):
        for j in range(0, m + 1):
            best, how = dp[i - 1][j], 0
            if j > 0:
                if dp[i][j - 1] > best:
                    best, how = dp[i][j - 1], 1
                take = dp[i - 1][j - 1] + _score(i - 1, groups[j - 1], expected_cells[i - 1])
                if take > best:
                    best, how = take, 2
            dp[i][j], back[i][j] = best, how
    # skipping a group at row 0 (before any row)
    for j in range(1, m + 1):
        if dp[0][j - 1] >= dp[0][j]:
            dp[0][j] = dp[0][j - 1]
    result: list[int | None] = [None] * n_rows
    i, j = n_rows, m
    while i > 0 and j >= 0:
        how = back[i][j]
        if how == 2:
            result[i - 1] = j - 1
            i, j = i - 1, j - 1
        elif how == 1:
            j -= 1
        else:
            i -= 1
    return result
