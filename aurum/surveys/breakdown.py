"""A survey's results by team, under the anonymity threshold: which teams' results may show beside the
organisation's.

A team with fewer than `threshold` answers shows nothing of its own. Hiding it is not enough when the
organisation's total shows too: the total minus every shown team is the hidden teams together, so they must add
up to no answer or to at least `threshold`. Otherwise the smallest shown team is hidden as well (it has at least
`threshold` answers, so the hidden ones then do too). Filters name one team at a time (`team:<key>`), so every
figure a person can see is the organisation's, a shown team's, or a difference of those, and each such group is
empty or holds at least `threshold` answers.
"""

from __future__ import annotations

from collections.abc import Mapping


def shown_teams(answers: Mapping[str, int], threshold: int) -> set[str]:
    """The teams (of {team: answer count}) whose results may show; none when the organisation's total cannot."""
    if sum(answers.values()) < threshold:
        return set()
    shown = {team for team, count in answers.items() if count >= threshold}
    hidden = sum(count for team, count in answers.items() if team not in shown)
    if 0 < hidden < threshold and shown:
        shown.remove(min(shown, key=lambda team: (answers[team], team)))
    return shown
