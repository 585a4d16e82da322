"""The hotline pipeline framework: config, broker, topics, stage runner, CLI."""

__version__ = "0.1.0"
