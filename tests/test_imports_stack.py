"""An upload imported by a real `celery worker` process, on PostgreSQL and Redis: the OneRoster
zip of the hand-written 1.1 district (its files inside one folder), with a dirty address, into
the stack's district (tests/support/stack.py), whose links the bulk files no longer hold end."""

from pathlib import Path

from tests.support.imports import upload, zipped
from tests.support.processes import wait_until

FIXTURE = Path(__file__).parent / "fixtures" / "oneroster" / "v1p1"


def test_a_oneroster_zip_is_imported_by_a_real_worker(stack_api):
    client, headers = stack_api
    files = {p.name: p.read_text() for p in sorted(FIXTURE.iterdir())}
    files["users.csv"] = files["users.csv"].replace(
        "rosa.diaz@example.org", "rosa diaz@example.org"
    )
    accepted = upload(client, zipped(files, folder="lakeside/"), "oneroster", headers=headers)
    assert accepted.status_code == 202, accepted.get_json()
    url = accepted.get_json()["url"]

    def finished() -> dict:
        view = client.get(url, headers=headers).get_json()
        return view if view["status"] in ("succeeded", "failed") else {}

    done = wait_until(finished, timeout=60, interval=0.2, message="the import to finish")
    assert (done["status"], done["format"], done["version"]) == ("succeeded", "oneroster", "1.1")
    assert done["progress"]["files"] == 8  # the files of the product's bundle it became
    report = done["report"]
    assert (report["errors"], report["quarantined"], report["skipped"]) == ([], 1, 1)
    assert report["files"]["people.csv"] == {"added": 8, "updated": 0, "unchanged": 0, "ended": 0}
    # The stack's own links (tests/support/stack.py) that are still active end: all but T5's
    # enrollment, G3's relationship (ended in 2025) and none of its memberships.
    assert {name: counts["ended"] for name, counts in report["files"].items()} == {
        "schools.csv": 0,
        "calendars.csv": 0,
        "people.csv": 0,
        "households.csv": 0,
        "householdMembers.csv": 5,
        "enrollments.csv": 4,
        "relationships.csv": 8,
        "districtAssignments.csv": 1,
        "preferences.csv": 0,
    }
    quarantine = client.get(f"{url}/quarantine.csv", headers=headers)
    assert quarantine.get_data(as_text=True).splitlines() == [
        "file,line,column,value,why",
        "users.csv,4,agentSourcedIds,,'u-x999' names no user in the bundle; skipped",
        "users.csv,5,email,rosa diaz@example.org,"
        '"not an e-mail address (name@domain.example, without spaces)"',
    ]
