"""Small-cell suppression for every breakdown Beacon shows (pulse results by area, award insight by site and
area): which groups to hide so that no hidden group, nor any few people, can be worked out by subtraction.
Pure functions; no database, no Slack."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
P = TypeVar("P", bound=Hashable)


def hidden_groups(counts: Mapping[K, int], *, minimum: int, parent_of: Mapping[K, P] | None = None,
                  parent_counts: Mapping[P, int] | None = None) -> tuple[set[K], set[P]]:
    """The groups to hide, and (for a two-level breakdown) the parent groups to hide.

    `counts` holds each group's number of people; the groups partition the people counted, so their total is
    known to anyone who sees the breakdown (it is the sum of the groups). `parent_of` optionally nests them (site
    within area) when both levels are shown; each parent's count is the sum of its groups' unless
    `parent_counts` says otherwise (people counted once per area, where a team spans two sites).

    Rule (primary, then secondary suppression). Every group and parent under `minimum` is hidden. Then, until
    nothing changes, more are hidden, smallest first:

    - Seen from a shown total (the whole, or a shown parent), the hidden groups beneath it can be recovered
      together by subtraction: total minus every shown group. That sum, in people and in answers (a mean times
      a count is a sum, so means follow counts), must cover at least `minimum` people in at least two groups;
      otherwise the smallest shown group beneath it is hidden too (or, if none is left, the parent).
    - Hidden parents: two at least (one alone is the total minus the shown ones); each must have a hidden group
      beneath it (else it is the sum of its shown groups); and the hidden groups beneath hidden parents, which
      can be recovered together, must cover `minimum` people in two groups spread over two parents.

    What an attacker can then work out, by any subtraction of shown figures from the total or from each other,
    is only ever a sum over `minimum` people or more, in two groups or more: never one hidden group, never a
    hidden group's mean. If the whole is under `minimum`, everything is hidden.
    """
    parents: dict[K, P | None] = {k: (parent_of or {}).get(k) for k in counts}
    summed: dict[P, int] = {}
    for k, n in counts.items():
        parent = parents[k]
        if parent is not None:
            summed[parent] = summed.get(parent, 0) + n
    parent_counts = {p: (parent_counts or {}).get(p, n) for p, n in summed.items()}
    hidden = {k for k, n in counts.items() if n < minimum}
    hidden_parents = {p for p, n in parent_counts.items() if n < minimum}
    if sum(counts.values()) < minimum:
        return set(counts), set(parent_counts)

    def smallest(keys: set[K]) -> K | None:
        shown = [k for k in keys if k not in hidden]
        return min(shown, key=lambda k: (counts[k], repr(k))) if shown else None

    def block_too_small(block: set[K]) -> bool:
        return bool(block) and (sum(counts[k] for k in block) < minimum or len(block) < 2)

    changed = True
    while changed:
        changed = False
        # The whole (every group) is a shown total.
        if block_too_small(hidden):
            extra = smallest(set(counts))
            if extra is not None:
                hidden.add(extra)
                changed = True
                continue
        for parent in parent_counts:
            beneath = {k for k in counts if parents[k] == parent}
            if parent not in hidden_parents:
                if block_too_small(beneath & hidden):
                    extra = smallest(beneath)
                    if extra is not None:
                        hidden.add(extra)
                    else:
                        hidden_parents.add(parent)
                    changed = True
                    break
            elif not beneath & hidden:
                extra = smallest(beneath)
                if extra is not None:
                    hidden.add(extra)
                    changed = True
                    break
        if changed or not parent_counts:
            continue
        shown_parents = [p for p in parent_counts if p not in hidden_parents]
        if len(hidden_parents) == 1 and shown_parents:
            hidden_parents.add(min(shown_parents, key=lambda p: (parent_counts[p], repr(p))))
            changed = True
            continue
        under_hidden = {k for k in hidden if parents[k] in hidden_parents}
        spread = {parents[k] for k in under_hidden}
        if under_hidden and (block_too_small(under_hidden) or len(spread) < 2):
            extra = smallest({k for k in counts if parents[k] in hidden_parents})
            if extra is not None and len(spread) >= 2:
                hidden.add(extra)
            elif shown_parents:
                hidden_parents.add(min(shown_parents, key=lambda p: (parent_counts[p], repr(p))))
            elif extra is not None:
                hidden.add(extra)
            else:
                continue
            changed = True
    return hidden, hidden_parents
