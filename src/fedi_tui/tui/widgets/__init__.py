"""Reusable widgets: these may carry DEFAULT_CSS; screens style themselves in .tcss files."""
