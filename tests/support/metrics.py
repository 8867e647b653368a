"""Reading what /metrics answers: each sample by its name and labels, and the tasks' queue of a
test's Redis emptied, so that its depth is known."""

import urllib.error
import urllib.request
from typing import Final

import redis
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
# Kombu keeps a queue on Redis as one list per priority step: `cpb`, then `cpb\x06\x16<n>`.
QUEUE_KEYS: Final = ("cpb", *(f"cpb\x06\x16{priority}" for priority in (3, 6, 9)))


def samples(text: str) -> Samples:
    """Every sample of the Prometheus text `text`: (name, sorted labels) -> value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(found: Samples, name: str, **labels: str) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


def scrape(url: str, token: str | None = None) -> tuple[int, str, str]:
    """(status, content type, body) of a GET."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers["Content-Type"], error.read().decode()


def empty_queue(redis_url: str) -> None:
    """The tasks' queue emptied of what earlier tests may have left."""
    with redis.Redis.from_url(redis_url) as connection:
        connection.delete(*QUEUE_KEYS)
