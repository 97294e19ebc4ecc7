"""Results by team: no team below the threshold shows, and no figure a person can see, alone or as a difference of
two, is a group of fewer answers than the threshold — over every split of answers among up to four teams."""

from __future__ import annotations

import itertools

import pytest

from aurum.surveys.breakdown import shown_teams

TEAMS = ["payments", "platform", "search", "mobile"]


def _visible_groups(answers: dict[str, int], shown: set[str]) -> list[int]:
    """The answer counts of every group a person can single out from what shows: the organisation's total, each
    shown team, and the total minus any set of shown teams (what the filters give, and their differences)."""
    total = sum(answers.values())
    groups = [answers[team] for team in shown]
    if shown or total:
        for size in range(len(shown) + 1):
            for taken in itertools.combinations(sorted(shown), size):
                groups.append(total - sum(answers[team] for team in taken))
    return groups


@pytest.mark.parametrize("threshold", [3, 5])
@pytest.mark.parametrize("teams", [1, 2, 3, 4])
def test_no_combination_of_team_filters_reveals_a_group_below_the_threshold(threshold, teams):
    for counts in itertools.product(range(threshold * 2 + 1), repeat=teams):
        answers = dict(zip(TEAMS, counts, strict=False))
        shown = shown_teams(answers, threshold)
        assert all(answers[team] >= threshold for team in shown), answers
        if sum(counts) < threshold:
            assert shown == set(), answers  # the organisation's total does not show: nothing does
            continue
        groups = _visible_groups(answers, shown)
        assert all(size == 0 or size >= threshold for size in groups), (answers, shown)
        # no more is hidden than needed: hiding happens only below the threshold, or for the hidden ones' sake
        below = {team for team, count in answers.items() if count < threshold}
        assert len(set(answers) - below - shown) <= 1, (answers, shown)


def test_a_small_team_is_hidden_and_so_is_the_smallest_other_when_the_total_would_give_it_away():
    assert shown_teams({"payments": 9, "platform": 6, "search": 2}, 5) == {"payments"}  # 17 - 9 = 8 = 6 + 2
    assert shown_teams({"payments": 9, "platform": 6, "search": 0}, 5) == {"payments", "platform"}
    assert shown_teams({"payments": 9, "platform": 3, "search": 2}, 5) == {"payments"}  # the hidden: 5
    assert shown_teams({"payments": 4}, 5) == set()
