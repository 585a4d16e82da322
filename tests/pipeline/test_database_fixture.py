"""The `database_url` fixture gives a working, empty database on SQLite and on PostgreSQL, and
both keep non-ASCII text intact (the ledger stores Kazakh and Russian)."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, Table, Text, create_engine, inspect, select


def test_database_url_round_trips_text(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert inspect(engine).get_table_names() == []  # a fresh database per test
        metadata = MetaData()
        places = Table(
            "places", metadata, Column("id", Integer, primary_key=True), Column("name", Text)
        )
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(places.insert(), [{"id": 1, "name": "Қазақстан"}])
        with engine.connect() as conn:
            assert conn.execute(select(places.c.name)).scalar_one() == "Қазақстан"
    finally:
        engine.dispose()
