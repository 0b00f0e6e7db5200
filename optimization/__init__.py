"""Optimization models built with PuLP (land use, facility location, Pareto fronts). No Qt."""
