"""The words the pages show: moments in the district's time zone."""

from zoneinfo import ZoneInfo

from web.labels import format_moment


def test_times_are_shown_in_the_district_time_zone():
    chicago = ZoneInfo("America/Chicago")
    assert format_moment("2025-10-15T08:00:00+00:00", chicago) == "2025-10-15 03:00:00 CDT"
    assert format_moment("2025-12-15T08:00:00", chicago) == "2025-12-15 02:00:00 CST"
    assert format_moment(None, chicago) == ""
