"""KPIs: the catalogue (the seed's KPIs, phase metrics and team overrides), where each stands against its target,
the KPI service behind `/kpi` (record, view, series), movements between two moments, unit-aware formatting, Block
Kit cards, charts, and the technical dashboard with its live version."""
