"""The `hotline` command line: the one place that composes stages, services and tools."""
