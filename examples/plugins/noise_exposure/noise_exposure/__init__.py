"""CityDesk example plugin: homes exposed to major-road noise (see docs/PLUGINS.md)."""
