"""The files of the OneRoster seed bundle: their columns and manifest, the same files for the
same seed, the native district generator both writers share, and `cpb seed --out`."""

import csv
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.commands import cli
from shared.imports.demo import District, write_demo_bundle
from shared.imports.native.formats import SPECS
from shared.imports.oneroster_seed import write_oneroster_bundle

TODAY = date(2025, 10, 15)


def test_six_files_with_the_1_1_columns(tmp_path: Path):
    write_oneroster_bundle(tmp_path, students=5, seed=1, today=TODAY)
    headers = {}
    for path in tmp_path.iterdir():
        with path.open(encoding="utf-8", newline="") as stream:
            headers[path.name] = next(csv.reader(stream))

    assert headers == {
        "manifest.csv": ["propertyName", "value"],
        "orgs.csv": (
            "sourcedId status dateLastModified name type identifier parentSourcedId"
        ).split(),
        "academicSessions.csv": (
            "sourcedId status dateLastModified title type startDate endDate parentSourcedId "
            "schoolYear"
        ).split(),
        "classes.csv": (
            "sourcedId status dateLastModified title grades courseSourcedId classCode classType "
            "location schoolSourcedId termSourcedIds subjects subjectCodes periods"
        ).split(),
        "enrollments.csv": (
            "sourcedId status dateLastModified classSourcedId schoolSourcedId userSourcedId role "
            "primary beginDate endDate"
        ).split(),
        "users.csv": (
            "sourcedId status dateLastModified enabledUser orgSourcedIds role username userIds "
            "givenName familyName middleName identifier email sms phone agentSourcedIds grades "
            "password"
        ).split(),
    }
    assert (tmp_path / "manifest.csv").read_text(encoding="utf-8").splitlines() == [
        "propertyName,value",
        "manifest.version,1.0",
        "oneroster.version,1.1",
        "file.academicSessions,bulk",
        "file.categories,absent",
        "file.classes,bulk",
        "file.classResources,absent",
        "file.courses,absent",
        "file.courseResources,absent",
        "file.demographics,absent",
        "file.enrollments,bulk",
        "file.lineItems,absent",
        "file.orgs,bulk",
        "file.resources,absent",
        "file.results,absent",
        "file.users,bulk",
        "source.systemName,Contact Preferences Batch (cpb seed)",
    ]


def test_the_same_seed_writes_the_same_files(tmp_path: Path):
    for name, seed in (("one", 5), ("again", 5), ("other", 6)):
        write_oneroster_bundle(tmp_path / name, students=200, seed=seed, today=TODAY)
    for path in (tmp_path / "one").iterdir():
        assert path.read_bytes() == (tmp_path / "again" / path.name).read_bytes(), path.name
    assert (tmp_path / "one" / "users.csv").read_bytes() != (
        tmp_path / "other" / "users.csv"
    ).read_bytes()


def test_the_district_generator_feeds_any_sinks_one_family_at_a_time(tmp_path: Path):
    """`District` hands out exactly the rows of the native bundle, and between two `settled`
    calls every row about people is about people made since the last one."""
    made: dict[str, list[list[str]]] = {spec.name.removesuffix(".csv"): [] for spec in SPECS}
    batches: list[set[str]] = [set()]
    strays = []

    def sink(name: str) -> Any:
        def take(row: Sequence[Any]) -> None:
            made[name].append([str(cell) for cell in row])
            if name == "people":
                batches[-1].add(row[0])
            elif name in {"enrollments", "relationships", "districtAssignments"}:
                if not set(row[:2] if name == "relationships" else row[:1]) <= batches[-1]:
                    strays.append((name, row))

        return take

    District({name: sink(name) for name in made}, 4, TODAY).write(
        150, settled=lambda: batches.append(set())
    )
    write_demo_bundle(tmp_path, students=150, seed=4, today=TODAY)

    for spec in SPECS:
        with (tmp_path / spec.name).open(encoding="utf-8", newline="") as stream:
            assert list(csv.reader(stream))[1:] == made[spec.name.removesuffix(".csv")], spec.name
    assert strays == []
    staff, families, after_the_last = batches[:13], batches[13:-1], batches[-1]
    assert [sorted(b) for b in staff] == [[f"E{n:07d}"] for n in range(1, 14)]  # 150 // 15 + 3
    students = [person for family in families for person in family if person[0] == "S"]
    assert (len(students), after_the_last) == (150, set())
    assert all(any(person[0] == "G" for person in family) for family in families)


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.sqlite3")
    monkeypatch.setenv("CPB_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    return CliRunner()


def test_seed_writes_a_bundle_to_out_without_touching_the_database(
    runner: CliRunner, tmp_path: Path
):
    roster, native = tmp_path / "roster", tmp_path / "native"
    wrote = runner.invoke(
        cli, ["seed", "--students", "20", "--format", "oneroster", "--out", str(roster)]
    )
    wrote_native = runner.invoke(cli, ["seed", "--students", "20", "--out", str(native)])

    assert (wrote.exit_code, wrote.output) == (
        0,
        f"wrote a oneroster bundle of 20 students to {roster}\n"
        f"import it with: cpb import oneroster {roster}\n",
    )
    assert (wrote_native.exit_code, wrote_native.output) == (
        0,
        f"wrote a native bundle of 20 students to {native}\n"
        f"import it with: cpb import csv {native}\n",
    )
    assert sorted(p.name for p in roster.iterdir()) == [
        "academicSessions.csv",
        "classes.csv",
        "enrollments.csv",
        "manifest.csv",
        "orgs.csv",
        "users.csv",
    ]
    assert sorted(p.name for p in native.iterdir()) == sorted(spec.name for spec in SPECS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["native", "roster"]  # no database


def test_seed_refuses_oneroster_without_out_and_imports_native_by_default(
    runner: CliRunner, tmp_path: Path
):
    refused = runner.invoke(cli, ["seed", "--students", "20", "--format", "oneroster"])
    unknown = runner.invoke(cli, ["seed", "--students", "20", "--format", "sif"])
    assert refused.exit_code == 2
    assert refused.output.splitlines()[-1] == (
        "Error: --format oneroster only writes a bundle: give --out DIR"
    )
    assert unknown.exit_code == 2
    assert "'sif' is not one of 'native', 'oneroster'" in unknown.output

    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    loaded = runner.invoke(cli, ["seed", "--students", "20", "--seed", "2"])
    assert loaded.exit_code == 0, loaded.output
    assert loaded.output.splitlines()[0] == "schools.csv: 3 new, 0 updated, 0 unchanged"
