"""Secondary suppression, tried as an attacker: with the shown cells, the total and any subtraction between them,
no hidden group (its count, its sum of answers, so its mean) and no handful of people can be worked out."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beacon.bot.organisation import Organisation
from beacon.bot.services.pulse_results import breakdown
from beacon.bot.services.suppression import hidden_groups
from tests.harness import BOB, DAVE, Beacon, organisation_for, settle
from tests.nominating import deliver, nominate

QUESTION = {"key": "q", "text": "How was it?", "type": "agreement",
            "options": ["Strongly disagree", "Disagree", "Neither", "Agree", "Strongly agree"]}


def _rank(rows: list[list[Fraction]]) -> int:
    rows = [r[:] for r in rows if any(r)]
    rank, columns = 0, len(rows[0]) if rows else 0
    for column in range(columns):
        pivot = next((i for i in range(rank, len(rows)) if rows[i][column] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for i in range(len(rows)):
            if i != rank and rows[i][column] != 0:
                factor = rows[i][column] / rows[rank][column]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[rank], strict=True)]
        rank += 1
    return rank


def _recoverable(groups: list[str], known: list[set[str]], wanted: set[str]) -> bool:
    """Whether the attacker can compute the sum over `wanted` from the sums they see (each a set of groups),
    by any adding and subtracting: the indicator of `wanted` is in the span of what is shown."""
    def vector(members: set[str]) -> list[Fraction]:
        return [Fraction(1 if g in members else 0) for g in groups]
    seen = [vector(k) for k in known]
    return _rank([*seen, vector(wanted)]) == _rank(seen)


def _attack(counts: dict[str, int], parent_of: dict[str, str] | None, minimum: int) -> None:
    hidden, hidden_parents = hidden_groups(counts, minimum=minimum, parent_of=parent_of)
    groups = sorted(counts)
    total = sum(counts.values())
    if total < minimum:
        assert hidden == set(counts), "a whole under the minimum shows nothing"
        return
    assert {g for g, n in counts.items() if n < minimum} <= hidden, "every small group is hidden"
    known = [set(groups)] + [{g} for g in groups if g not in hidden]
    for parent in set((parent_of or {}).values()) - hidden_parents:
        known.append({g for g in groups if (parent_of or {})[g] == parent})
    secret = sorted(hidden)
    subsets = itertools.chain.from_iterable(itertools.combinations(secret, r) for r in range(1, len(secret) + 1))
    for subset in itertools.islice(subsets, 4096):
        if _recoverable(groups, known, set(subset)):
            people = sum(counts[g] for g in subset)
            assert people >= minimum and len(subset) >= 2, (
                f"{subset} ({people} people) recovered from {counts} with {sorted(hidden)} hidden")
    # A hidden parent is never the sum of what is shown either.
    for parent in hidden_parents:
        beneath = {g for g in groups if (parent_of or {})[g] == parent}
        assert not _recoverable(groups, known, beneath), f"hidden parent {parent} recovered"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=25), min_size=1, max_size=8), st.integers(min_value=2, max_value=11))
def test_no_subtraction_recovers_a_hidden_group(sizes: list[int], minimum: int) -> None:
    _attack({f"g{i}": n for i, n in enumerate(sizes)}, None, minimum)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=3), st.integers(min_value=1, max_value=20)),
                min_size=1, max_size=8), st.integers(min_value=2, max_value=8))
def test_sites_within_areas_no_subtraction_recovers_a_hidden_site_or_area(
        sites: list[tuple[int, int]], minimum: int) -> None:
    counts = {f"s{i}": n for i, (_, n) in enumerate(sites)}
    parent_of = {f"s{i}": f"a{area}" for i, (area, _) in enumerate(sites)}
    _attack(counts, parent_of, minimum)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Essex", "Norfolk", "Suffolk", "Bedfordshire", None, "Herts"]),
                          st.integers(min_value=0, max_value=4)), min_size=0, max_size=60),
       st.integers(min_value=2, max_value=11))
def test_the_pulse_breakdown_gives_no_hidden_count_or_mean_away(answers: list[tuple[str | None, int]],
                                                                 minimum: int) -> None:
    """The attacker sees the question's total and mean and every shown cell's count and mean, and subtracts
    any set of shown cells from the total: what is left must never be fewer than `minimum` people."""
    rows = [(group, QUESTION["options"][answer]) for group, answer in answers]
    cells = breakdown(QUESTION, rows, minimum=minimum)
    total = len(rows)
    total_sum = sum(answer + 1 for _, answer in answers)
    if total < minimum:
        assert all(c.responses is None and c.mean is None for c in cells)
        return
    truth: dict[str, tuple[int, int]] = {}
    for group, answer in answers:
        n, s = truth.get(group or "Unknown", (0, 0))
        truth[group or "Unknown"] = (n + 1, s + answer + 1)
    shown = [c for c in cells if c.responses is not None]
    for c in cells:
        assert (c.responses is None) == (c.mean is None)
        if c.responses is not None:
            assert c.responses >= minimum and c.responses == truth[c.group][0]
    hidden_truth = {c.group: truth[c.group] for c in cells if c.responses is None}
    for r in range(len(shown) + 1):
        for taken in itertools.combinations(shown, r):
            left = total - sum(c.responses or 0 for c in taken)
            left_sum = total_sum - sum(round((c.mean or 0) * (c.responses or 0)) for c in taken)
            if left == 0:
                continue
            assert left >= minimum, f"total minus {[c.group for c in taken]} leaves {left} people"
            assert [(left, left_sum)] != list(hidden_truth.values()), "one hidden group's count and mean recovered"


def test_two_hidden_groups_of_one_are_no_longer_a_two_person_mean() -> None:
    """The defect as found: two groups of 1 hidden, the rest shown, so the total gave away a 2-person mean."""
    rows = [("Essex", "Agree")] * 12 + [("Norfolk", "Agree")] * 11 + [("Suffolk", "Strongly disagree"),
                                                                        ("Herts", "Strongly disagree")]
    cells = {c.group: c.responses for c in breakdown(QUESTION, rows, minimum=11)}
    assert cells == {"Essex": 12, "Herts": None, "Norfolk": None, "Suffolk": None}, cells


def test_one_shown_cell_beside_the_total_never_reveals_the_rest() -> None:
    hidden, _ = hidden_groups({"big": 40, "a": 3, "b": 4}, minimum=5)
    assert hidden == {"a", "b"}, "3 + 4 = 7 people in two groups: the total minus 'big' tells only that"
    hidden, _ = hidden_groups({"big": 40, "a": 1, "b": 2}, minimum=5)
    assert hidden == {"a", "b", "big"}, "1 + 2 is under five: the shown one must go too"


@pytest.fixture
def organisation(slack) -> Organisation:  # type: ignore[no-untyped-def]
    return organisation_for(slack.workspace, roles={"panel": [DAVE], "comms": [BOB]}, sites=[
        {"name": "Bedford Ambulance Station", "area": "Bedfordshire", "aliases": ["Bedford"]},
        {"name": "Luton Ambulance Station", "area": "Bedfordshire", "aliases": ["Luton"]},
        {"name": "Chelmsford Ambulance Station", "area": "Essex", "aliases": ["Chelmsford"]}])


async def test_award_insight_never_lets_an_area_minus_its_sites_give_a_small_site_away(beacon: Beacon) -> None:
    """Bedfordshire (8 people) minus Bedford (6) was Luton's 2 people: now Bedford is hidden beside Luton."""
    dave, bob = beacon.slack.person(DAVE), beacon.slack.person(BOB)
    await dave.command("/awards", 'open "2027 Staff Awards" closes 2027-03-31')
    await settle()
    for site, people in (("Bedford", 6), ("Luton", 2), ("Chelmsford", 6)):
        crew = "\n".join(f"{site} Crew {i}, Paramedic, {site}" for i in range(people))
        await nominate(bob, colleagues=[], not_on_slack=crew, values=["teamwork"])
    await deliver(beacon)
    async with beacon.deps.db.transaction() as session:
        insight = await beacon.deps.panel_review.insight(session=session, user_id=BOB)
    shown = {c.label: c.people for c in [*insight.by_site, *insight.by_area]}
    assert shown == {"Bedford Ambulance Station": None, "Luton Ambulance Station": None,
                     "Chelmsford Ambulance Station": 6, "Bedfordshire": 8, "Essex": 6}, shown
