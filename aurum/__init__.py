"""Domain of the Aurum bot: the KPI catalogue, status, charts, delivery seam, jobs and demo data."""
