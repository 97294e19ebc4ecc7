"""Teams inside one Slack workspace ("squads" in code, so that a squad is never taken for Slack's team_id, the
workspace): the `teams:` section of the config file, which team a request is about, and the rows each team owns.

A workspace without `teams:` has one implicit default team: everything behaves as before teams existed. The default
team's rows carry the squad key "" (storage.types.DEFAULT_SQUAD), so every row written before teams existed, and
everything that names no team, belongs to it.
"""
