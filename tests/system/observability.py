"""Helpers of the observability tests: scraping /metrics, reading the processes' JSON logs."""

from __future__ import annotations

import json

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.stack import Process


def scrape(port: int) -> list:
    """Every sample a /metrics endpoint exports (prometheus_client Sample tuples)."""
    response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    response.raise_for_status()
    return [sample for family in text_string_to_metric_families(response.text) for sample in family.samples]


def value(samples: list, name: str, **labels) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels``."""
    return sum(s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def json_lines(process: Process) -> list[dict]:
    """Every line the process printed, parsed; a line that is not a JSON object fails the test."""
    records = []
    for number, line in enumerate(process.output().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise AssertionError(f"{process.name} line {number} is not JSON: {line!r}") from None
        assert isinstance(record, dict), f"{process.name} line {number} is not an object: {line!r}"
        records.append(record)
    return records


def with_request_id(process: Process, request_id: str) -> list[dict]:
    return [record for record in json_lines(process) if record.get("request_id") == request_id]
