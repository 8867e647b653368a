"""A benchmark's own section of docs/benchmarks.md, between its markers."""

from pathlib import Path


def write_section(doc: Path, heading: str, markers: tuple[str, str], section: str) -> None:
    """Replace what is between the markers; without them, add the heading and them at the end."""
    begin, end = markers
    text = doc.read_text()
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = f"{head}{begin}\n{section}\n{end}{rest.split(end, 1)[1]}"
    else:
        text = f"{text.rstrip()}\n\n{heading}\n\n{begin}\n{section}\n{end}\n"
    doc.write_text(text)
