"""Zip bundles (shared.imports.archive): what is refused before anything is unpacked, what the
unpacking itself stops, and where in an unpacked zip the bundle is."""

import stat
import struct
import warnings
import zipfile
from pathlib import Path

import pytest

from shared.core.errors import ImportFailed
from shared.imports import archive
from shared.imports.archive import bundle_folder, check_zip, unpack

LIMIT = 1_000_000
PEOPLE = b"personId,firstName,lastName\nP1,Ann,Lee\n"


def make_zip(path: Path, entries: dict[str, bytes], level: int = 9) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as out:
        for name, content in entries.items():
            out.writestr(name, content)
    return path


def patch_central_directory(path: Path, offset: int, fmt: str, value: int) -> None:
    """Overwrite a field of the zip's first central directory header (offsets as in the zip
    format: 8 the flags, 10 the compression method, 24 the unpacked size)."""
    data = bytearray(path.read_bytes())
    end = data.rindex(b"PK\x05\x06")
    (start,) = struct.unpack_from("<I", data, end + 16)
    assert data[start : start + 4] == b"PK\x01\x02"
    struct.pack_into(fmt, data, start + offset, value)
    path.write_bytes(bytes(data))


def problems(path: Path, **limits: int) -> list[str]:
    with pytest.raises(ImportFailed) as refused:
        check_zip(path, max_unpacked=limits.pop("max_unpacked", LIMIT), **limits)
    return refused.value.problems


def test_a_plain_bundle_unpacks_into_the_target(tmp_path: Path):
    zipped = make_zip(tmp_path / "b.zip", {"people.csv": PEOPLE, "manifest.csv": b"a,b\n"})

    check_zip(zipped, max_unpacked=LIMIT)
    folder = unpack(zipped, tmp_path / "out", max_unpacked=LIMIT)

    assert folder == tmp_path / "out"
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.csv", "people.csv"]
    assert (folder / "people.csv").read_bytes() == PEOPLE
    assert bundle_folder(folder, "people.csv") == folder


def test_a_bundle_in_one_folder_with_its_directory_entry(tmp_path: Path):
    zipped = make_zip(tmp_path / "b.zip", {"district/": b"", "district/people.csv": PEOPLE})

    folder = unpack(zipped, tmp_path / "out", max_unpacked=LIMIT)

    assert (folder / "district" / "people.csv").read_bytes() == PEOPLE
    assert bundle_folder(folder, "people.csv") == folder / "district"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../evil.csv", ["zip entry '../evil.csv' has a '..' component"]),
        ("a/../../evil.csv", ["zip entry 'a/../../evil.csv' has a '..' component"]),
        ("/etc/evil.csv", ["zip entry '/etc/evil.csv' has an absolute path"]),
        ("C:/evil.csv", ["zip entry 'C:/evil.csv' has a drive letter"]),
        ("a\\evil.csv", ["zip entry 'a\\evil.csv' has a backslash in its path"]),
        (
            "C:\\..\\evil.csv",
            [
                "zip entry 'C:\\..\\evil.csv' has a drive letter",
                "zip entry 'C:\\..\\evil.csv' has a backslash in its path",
            ],
        ),
    ],
)
def test_paths_that_could_leave_the_folder_are_refused(
    tmp_path: Path, name: str, expected: list[str]
):
    zipped = make_zip(tmp_path / "b.zip", {"people.csv": PEOPLE, name: b"x"})
    assert [info.filename for info in zipfile.ZipFile(zipped).infolist()][1] == name

    assert problems(zipped) == expected
    with pytest.raises(ImportFailed):
        unpack(zipped, tmp_path / "deep" / "out", max_unpacked=LIMIT)
    assert not (tmp_path / "deep").exists()  # refused before anything was written


def test_a_symbolic_link_is_refused(tmp_path: Path):
    link = zipfile.ZipInfo("people.csv")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(tmp_path / "b.zip", "w") as out:
        out.writestr(link, "/etc/passwd")

    assert problems(tmp_path / "b.zip") == ["zip entry 'people.csv' is a symbolic link"]


def test_an_encrypted_entry_is_refused(tmp_path: Path):
    zipped = make_zip(tmp_path / "b.zip", {"people.csv": PEOPLE})
    patch_central_directory(zipped, 8, "<H", 0x1)

    assert problems(zipped) == ["zip entry 'people.csv' is encrypted"]


def test_a_compression_python_cannot_read_is_refused(tmp_path: Path):
    zipped = make_zip(tmp_path / "b.zip", {"people.csv": PEOPLE})
    patch_central_directory(zipped, 10, "<H", 9)  # deflate64

    assert problems(zipped) == ["zip entry 'people.csv' is compressed in a way that cannot be read"]


def test_something_else_than_a_zip_is_refused(tmp_path: Path):
    (tmp_path / "people.zip").write_bytes(PEOPLE)

    assert problems(tmp_path / "people.zip") == ["the file is not a zip file"]


def test_more_than_a_thousand_entries_are_refused(tmp_path: Path):
    entries = {f"f{n}.csv": b"" for n in range(1001)}
    zipped = make_zip(tmp_path / "b.zip", entries)

    assert problems(zipped) == ["the zip has 1001 entries, over the limit of 1000"]
    del entries["f1000.csv"]
    check_zip(make_zip(tmp_path / "c.zip", entries), max_unpacked=LIMIT)


def test_a_zip_bomb_is_refused_from_its_central_directory(tmp_path: Path):
    zipped = make_zip(tmp_path / "b.zip", {"zeros.csv": bytes(50 << 20)})
    assert zipped.stat().st_size < 100_000

    assert problems(zipped, max_unpacked=10_000_000) == [
        "the zip would unpack to 52428800 bytes, over the limit of 10000000 bytes",
        "the zip would unpack to 52428800 bytes, over 100 times its size",
    ]
    assert problems(zipped, max_unpacked=10**9) == [
        "the zip would unpack to 52428800 bytes, over 100 times its size"
    ]
    check_zip(zipped, max_unpacked=10**9, max_ratio=2000)


def test_declared_sizes_that_lie_do_not_unpack_more(tmp_path: Path):
    """The central directory says 10 bytes for a megabyte of zeros: the check passes, and the
    unpacking writes no more than declared before the entry is found damaged."""
    zipped = make_zip(tmp_path / "b.zip", {"zeros.csv": bytes(1 << 20)})
    patch_central_directory(zipped, 24, "<I", 10)
    check_zip(zipped, max_unpacked=1000)

    with pytest.raises(ImportFailed) as refused:
        unpack(zipped, tmp_path / "out", max_unpacked=1000)

    assert refused.value.problems == ["zip entry 'zeros.csv' is damaged"]
    assert (tmp_path / "out" / "zeros.csv").stat().st_size <= 10


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        (
            {"max_unpacked": 100_000},
            "zip entry 'zeros.csv' takes what is unpacked over the limit of 100000 bytes",
        ),
        (
            {"max_unpacked": 10**9, "max_ratio": 10},
            "zip entry 'zeros.csv' takes what is unpacked over 10 times the zip's size",
        ),
    ],
)
def test_the_unpacking_counts_the_bytes_it_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limits: dict[str, int], expected: str
):
    """Were the check fooled, the writing still stops at the limit: nothing past it is
    written."""
    zipped = make_zip(tmp_path / "b.zip", {"zeros.csv": bytes(5 << 20)})
    monkeypatch.setattr(archive, "check_zip", lambda *args, **kwargs: None)

    with pytest.raises(ImportFailed) as refused:
        unpack(zipped, tmp_path / "out", **limits)

    assert refused.value.problems == [expected]
    limit = min(limits["max_unpacked"], limits.get("max_ratio", 100) * zipped.stat().st_size)
    written = (tmp_path / "out" / "zeros.csv").stat().st_size
    assert written == limit // archive.CHUNK * archive.CHUNK  # the whole chunks under the limit


def test_two_entries_of_one_name_are_refused(tmp_path: Path):
    zipped = make_zip(tmp_path / "b.zip", {"people.csv": PEOPLE, "district/": b""})
    with warnings.catch_warnings(), zipfile.ZipFile(zipped, "a") as out:
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns of a duplicate name
        out.writestr("people.csv", b"again")
        out.writestr("district", b"a file where the folder is")

    assert problems(zipped) == [
        "zip entry 'people.csv' appears 2 times",
        "zip entry 'district' appears 2 times",
    ]


def test_a_file_where_a_folder_must_be_clashes(tmp_path: Path):
    zipped = make_zip(tmp_path / "b.zip", {"district": b"x", "district/people.csv": PEOPLE})

    with pytest.raises(ImportFailed) as refused:
        unpack(zipped, tmp_path / "out", max_unpacked=LIMIT)

    assert refused.value.problems == ["zip entry 'district/people.csv' clashes with another entry"]
    assert (tmp_path / "out" / "district").read_bytes() == b"x"


def test_the_marker_deep_in_one_folder_is_found(tmp_path: Path):
    for folder in ("export/2025/district", "__MACOSX/export", ".git/old", "export/empty"):
        (tmp_path / folder).mkdir(parents=True)
    for folder in ("export/2025/district", "__MACOSX/export", ".git/old"):
        (tmp_path / folder / "manifest.csv").write_bytes(b"")

    assert bundle_folder(tmp_path, "manifest.csv") == tmp_path / "export/2025/district"


def test_the_marker_in_several_folders_or_none(tmp_path: Path):
    for folder in ("b", "a/inner", "c"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "b" / "people.csv").write_bytes(PEOPLE)
    (tmp_path / "a" / "inner" / "people.csv").write_bytes(PEOPLE)

    with pytest.raises(ImportFailed) as several:
        bundle_folder(tmp_path, "people.csv")
    with pytest.raises(ImportFailed) as none:
        bundle_folder(tmp_path, "manifest.csv")

    assert several.value.problems == ["people.csv is in several folders of the bundle: a/inner, b"]
    assert none.value.problems == ["no manifest.csv in the bundle"]
