"""db helpers: SQLite tuned for concurrent use, transactional sessions, ping."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from shop.common.db import UtcDateTime, make_engine, ping, session_scope, utc_now
from sqlalchemy import Integer, String, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Counter(Base):
    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


def test_file_database_uses_wal_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        busy_timeout_ms = connection.execute(text("PRAGMA busy_timeout")).scalar_one()
        assert busy_timeout_ms >= 1000


def test_session_scope_commits_on_success_and_rolls_back_on_error(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'tx.db'}")
    Base.metadata.create_all(engine)
    with session_scope(engine) as session:
        session.add(Counter(name="kept", value=1))

    def add_then_fail() -> None:
        with session_scope(engine) as session:
            session.add(Counter(name="dropped", value=1))
            session.flush()
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        add_then_fail()
    with session_scope(engine) as session:
        assert session.scalars(select(Counter.name)).all() == ["kept"]


def test_write_transactions_from_many_threads_lose_no_update(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
    Base.metadata.create_all(engine)
    with session_scope(engine) as session:
        session.add(Counter(name="c", value=0))

    def increment() -> None:
        # Read then write: safe only because write=True takes the lock at BEGIN.
        with session_scope(engine, write=True) as session:
            row = session.get_one(Counter, "c")
            row.value = row.value + 1

    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(increment) for _ in range(40)]:
            future.result()
    with session_scope(engine) as session:
        assert session.get_one(Counter, "c").value == 40


def test_in_memory_database_is_shared_by_every_session() -> None:
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    with session_scope(engine) as session:
        session.add(Counter(name="m", value=3))
    with session_scope(engine) as session:
        assert session.get_one(Counter, "m").value == 3


def test_ping_tells_whether_the_database_answers(tmp_path: Path) -> None:
    assert ping(make_engine(f"sqlite:///{tmp_path / 'ok.db'}"))
    assert not ping(make_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}"))


class Stamp(Base):
    __tablename__ = "stamps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


def test_utc_datetime_round_trips_as_aware_utc(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'time.db'}")
    Base.metadata.create_all(engine)
    paris = timezone(timedelta(hours=2))
    with session_scope(engine) as session:
        session.add(Stamp(id=1, at=datetime(2024, 5, 1, 12, 0, tzinfo=paris)))
    with session_scope(engine) as session:
        stored = session.get_one(Stamp, 1).at
    assert stored == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert stored.utcoffset() == timedelta(0)
    assert utc_now().tzinfo is UTC


def test_utc_datetime_refuses_naive_values(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'naive.db'}")
    Base.metadata.create_all(engine)

    def store_naive() -> None:
        with session_scope(engine) as session:
            session.add(Stamp(id=1, at=datetime(2024, 5, 1, 12, 0)))

    with pytest.raises(StatementError):
        store_naive()
