"""Grid-based city management: unit grid, case store, lifecycle, KPIs. No Qt."""
