"""Recognition: the seed's individual awards (kudos) and team achievements with their leaderboard and suggestions,
and celebrations when a KPI reaches its target or stretch goal, a quality milestone or a phase's success."""
