"""Guided planning: scenarios, suitability, accessibility, indicators, comparison. No Qt."""
