"""Data files of the pure core (region codes); loaded with importlib.resources."""
