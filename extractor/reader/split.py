"""Split glued digit runs into cells, using arithmetic as the constraint, and say when it is ambiguous."""

from __future__ import annotations

from collections.abc import Callable, Iterator

MAX_CANDIDATES = 200


def compositions(digits: str, parts: int) -> Iterator[list[str]]:
    """Every split of ``digits`` into ``parts`` non-empty numbers without leading zeros."""
    n = len(digits)
    if parts <= 0 or n < parts:
        return
    if parts == 1:
        if len(digits) == 1 or digits[0] != "0":
            yield [digits]
        return
    first_max = 1 if digits[0] == "0" else n - parts + 1
    for k in range(1, first_max + 1):
        head = digits[:k]
        for rest in compositions(digits[k:], parts - 1):
            yield [head, *rest]


def split_row_with_total(digits: str, parts: int = 7) -> list[list[int]]:
    """Splits of a table-三 row whose last cell is the sum of the others (R3.3)."""
    out: list[list[int]] = []
    for comp in compositions(digits, parts):
        values = [int(c) for c in comp]
        if sum(values[:-1]) == values[-1]:
            out.append(values)
            if len(out) >= MAX_CANDIDATES:
                break
    return out


def split_free(digits: str, parts: int, accept: Callable[[list[int]], bool] | None = None) -> list[list[int]]:
    out: list[list[int]] = []
    for comp in compositions(digits, parts):
        values = [int(c) for c in comp]
        if accept is None or accept(values):
            out.append(values)
            if len(out) >= MAX_CANDIDATES * 5:
                break
    return out


def split_groups_with_totals(digits: str, groups: int = 3, size: int = 5) -> list[list[int]]:
    """Table 四: ``groups`` runs of ``size`` cells, each ending in its total (R4.1)."""
    results: list[list[int]] = []

    def rec(rest: str, acc: list[int], left: int) -> None:
        if len(results) >= MAX_CANDIDATES:
            return
        if left == 0:
            if not rest:
                results.append(acc)
            return
        for cut in range(size, len(rest) - size * (left - 1) + 1):
            for part in split_row_with_total(rest[:cut], size):
                rec(rest[cut:], acc + part, left - 1)

    rec(digits, [], groups)
    return results
