"""CityDesk's own analyses, registered through the same manifest as any plugin."""
