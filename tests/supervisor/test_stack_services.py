"""What `tradeplat up` supervises and how it names it in the status file."""

from __future__ import annotations

from platform_streams.supervisor.stack_services import without_password


def test_database_urls_lose_their_password_before_they_reach_a_status_file() -> None:
    assert (
        without_password("postgresql://trader:s3cret@db.internal:5432/trading")
        == "postgresql://trader:***@db.internal:5432/trading"
    )
    assert (
        without_password("postgresql://postgres:@/postgres?host=/state/pg") == "postgresql://postgres:@/postgres?host=/state/pg"
    )
    assert without_password("postgresql://db/trading") == "postgresql://db/trading"
