"""Shared fixtures live in fixture modules, registered here."""

pytest_plugins = [
    "tests.fixtures.broker",
    "tests.fixtures.stage",
    "tests.fixtures.sandbox",
    "tests.fixtures.database",
    "tests.fixtures.gateway",
    "tests.fixtures.browser",
]
