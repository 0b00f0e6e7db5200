"""Plugin host and built-in plugins. No Qt outside lazily imported panels."""
