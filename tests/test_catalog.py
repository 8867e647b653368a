from datetime import date

from shared.batches.catalog import current_school_year
from tests.support.district import District


def test_current_school_year_is_the_running_one_else_the_newest(sqlite_session_factory):
    with sqlite_session_factory.begin() as session:
        assert current_school_year(session, date(2025, 10, 15)) is None
        d = District(session)
        school = d.school("S")
        d.calendar("OLD", school, "2024-25", date(2024, 8, 20), date(2025, 6, 5))
        d.calendar("NEW", school, "2025-26", date(2025, 8, 19), date(2026, 6, 4))
        assert current_school_year(session, date(2025, 3, 1)) == "2024-25"
        assert current_school_year(session, date(2025, 6, 5)) == "2024-25"
        assert current_school_year(session, date(2025, 7, 1)) == "2025-26"  # summer: the newest
        assert current_school_year(session, date(2025, 10, 15)) == "2025-26"
