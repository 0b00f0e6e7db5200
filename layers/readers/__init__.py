"""Format readers. Each returns plain data (GeoDataFrame or RasterLayer), never a widget."""
