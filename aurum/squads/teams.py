"""The teams of a workspace, and which one a request is about."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aurum.core.context import Context
from aurum.core.delivery import DeliveryError
from aurum.core.errors import InputError
from aurum.core.suggest import unknown
from aurum.kpis.catalog import Catalog, load_catalog
from aurum.squads.config import TeamConfig
from storage.types import DEFAULT_SQUAD

if TYPE_CHECKING:  # types only: the config gathers every capability's section, this one's too
    from aurum.config import AurumConfig

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Squad:
    """One team of a workspace. `stored`: the squad key of its rows (DEFAULT_SQUAD for the default team)."""

    key: str  # as people type it in `team:<key>`; "" for the one implicit team of a workspace without `teams:`
    name: str
    stored: str
    config: TeamConfig | None = None

    @property
    def label(self) -> str:
        """How messages name the team ("" for the implicit team: nothing to tell apart)."""
        return self.name or self.key


IMPLICIT = Squad(key="", name="", stored=DEFAULT_SQUAD)


def all_squads(config: AurumConfig) -> list[Squad]:
    """The workspace's teams in the config file's order; the one implicit team without `teams:`."""
    if not config.teams:
        return [IMPLICIT]
    default = next((key for key, team in config.teams.items() if team.default), next(iter(config.teams)))
    return [Squad(key=key, name=team.name or key, stored=DEFAULT_SQUAD if key == default else key, config=team)
            for key, team in config.teams.items()]


def default_squad(config: AurumConfig) -> Squad:
    return next(s for s in all_squads(config) if s.stored == DEFAULT_SQUAD)


def by_key(config: AurumConfig, key: str) -> Squad:
    """The team `team:<key>` names; an InputError listing the teams when there is none by that key."""
    found = next((s for s in all_squads(config) if s.key and s.key == key.strip().lower()), None)
    if found is not None:
        return found
    if not config.teams:
        raise InputError(f"This workspace has no teams, so `team:{key}` names nothing: leave it out (teams are set "
                         "under `teams:` in the config file).")
    raise InputError(f"{unknown('team', key, config.teams, listing='Teams')}. Write it as `team:<key>`, "
                     f"e.g. `team:{next(iter(config.teams))}`.")


def by_stored(config: AurumConfig, stored: str) -> Squad:
    """The team whose rows carry `stored`; the default team for a key no configured team has (any more)."""
    return next((s for s in all_squads(config) if s.stored == stored), default_squad(config))


def of_board(config: AurumConfig, board: str, otherwise: Squad) -> Squad:
    """The team whose `sprint_board` is this Jira board; `otherwise` when none is."""
    return next((s for s in all_squads(config) if s.config is not None and s.config.sprint_board == str(board)),
                otherwise)


_CATALOGS: dict[tuple[int, str], tuple[AurumConfig, Catalog]] = {}


def catalog(ctx: Context, squad: Squad) -> Catalog:
    """The workspace's catalogue with the team's own `kpis:` over it (built once per config and team)."""
    if squad.config is None or not squad.config.kpis:
        return ctx.catalog
    cache_key = (id(ctx.config), squad.key)
    cached = _CATALOGS.get(cache_key)
    if cached is None or cached[0] is not ctx.config:
        cached = (ctx.config, load_catalog(ctx.config.kpis, team_overrides=squad.config.kpis))
        _CATALOGS[cache_key] = cached
    return cached[1]


def scope(ctx: Context, squad: Squad) -> Context:
    """The context of work about one team: its rows (ctx.squad) and its KPI catalogue."""
    if squad.stored == ctx.squad and squad.config is None:
        return ctx
    return dataclasses.replace(ctx, squad=squad.stored, squad_catalog=catalog(ctx, squad))


def channel(config: AurumConfig, squad: Squad, key: str) -> str:
    """A key of `channels:` as the team sees it: its own channel by that key, else the workspace's (a `#name` or an
    id is itself)."""
    own = squad.config.channels if squad.config is not None else {}
    return own.get(key) or config.channels.model_dump().get(key) or key


def _own_channels(squad: Squad) -> set[str]:
    if squad.config is None:
        return set()
    members = [squad.config.members.channel] if squad.config.members.channel else []
    return {c.lower() for c in [*members, *squad.config.channels.values()]}


def members(ctx: Context, team_id: str, squad: Squad) -> list[str]:
    """The team's people (its user group's or channel's members); [] where nobody can be asked."""
    if squad.config is None or ctx.directory is None:
        return []
    who = squad.config.members
    return ctx.directory.members(team_id, channel=who.channel, usergroup=who.usergroup)


def which(ctx: Context, team_id: str, user_id: str, channel_id: str = "", channel_name: str = "",
          named: str | None = None) -> Squad:
    """The team a request is about: the one it names, else the team whose channel it was typed in, else the asker's
    team by membership (the first listed), else the default team."""
    if named:
        return by_key(ctx.config, named)
    squads = [s for s in all_squads(ctx.config) if s.config is not None]
    here = {channel_id.lower(), f"#{channel_name.lower()}"} - {"", "#"}
    for squad in squads:
        if here & _own_channels(squad):
            return squad
    return next((squad for squad, people in _memberships(ctx, team_id, squads) if user_id in people),
                default_squad(ctx.config))


def _memberships(ctx: Context, team_id: str, squads: list[Squad]) -> Iterator[tuple[Squad, list[str]]]:
    """Each team with its members, asked as they are needed; a team whose members cannot be read has none."""
    for squad in squads:
        try:
            yield squad, members(ctx, team_id, squad)
        except DeliveryError as exc:  # a team's channel the bot cannot read: the other teams still count
            log.warning("team members unknown", extra={"team_id": team_id, "squad": squad.key, "error": str(exc)})
            yield squad, []


def belonging(ctx: Context, team_id: str, squad: Squad, people: Iterable[str]) -> set[str]:
    """Those of `people` whose team is `squad` by membership, as `which` finds a person's team: the first team
    listing them, else the default team."""
    people = set(people)
    if not ctx.config.teams:
        return people
    found: dict[str, Squad] = {}
    for team, listed in _memberships(ctx, team_id, [s for s in all_squads(ctx.config) if s.config is not None]):
        for person in people.intersection(listed):
            found.setdefault(person, team)
    return {person for person in people if found.get(person, default_squad(ctx.config)).key == squad.key}
