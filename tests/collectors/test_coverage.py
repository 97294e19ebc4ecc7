"""Coverage reports written by the real coverage.py: the collector reads the percentage `coverage report` prints."""

from __future__ import annotations

import subprocess
import sys

import pytest

from aurum.collectors import coverage
from aurum.collectors.base import CollectorError
from aurum.collectors.config import CoverageSource
from tests.fakes.http_api import Reply

PROGRAM = """
def grade(n):
    if n > 90:
        return "A"
    elif n > 50:
        return "B"
    return "C"

def unused():
    return 1

for n in (95, 60):
    grade(n)
"""


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """coverage.xml, coverage.json and the total `coverage report` prints, for a program with branches."""
    pytest.importorskip("coverage")
    folder = tmp_path_factory.mktemp("cov")
    (folder / "program.py").write_text(PROGRAM)

    def cov(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "coverage", *args], cwd=folder, capture_output=True, text=True,
                              check=True)
        return done.stdout

    cov("run", "--branch", "program.py")
    cov("xml", "-o", "coverage.xml")
    cov("json", "-o", "coverage.json")
    total = float(cov("report", "--format=total", "--precision=6"))
    return folder, total


def test_xml_and_json_give_what_coverage_report_prints(reports):
    folder, total = reports
    from_xml = coverage.percent("coverage", (folder / "coverage.xml").read_bytes())
    from_json = coverage.percent("coverage", (folder / "coverage.json").read_bytes())
    assert round(from_xml, 6) == pytest.approx(total, abs=1e-6)
    assert round(from_json, 6) == pytest.approx(total, abs=1e-6)
    assert 50 < total < 100  # branch coverage makes it differ from the line rate


def test_collect_from_a_path_and_from_a_url(reports, make_run, api):
    folder, total = reports
    from_path = coverage.collect(make_run("coverage", CoverageSource(path=folder / "coverage.xml")))
    assert [(p.kpi, round(p.value, 6)) for p in from_path.points] == [("test_coverage_percentage", round(total, 6))]
    api.on("GET", "/artifacts/coverage.json", Reply((folder / "coverage.json").read_bytes()))
    from_url = coverage.collect(make_run("coverage", CoverageSource(url=f"{api.url}/artifacts/coverage.json")))
    assert round(from_url.points[0].value, 6) == round(total, 6)


def test_other_tools_cobertura_without_counts_uses_line_rate():
    assert coverage.percent("coverage", b'<coverage line-rate="0.815" branch-rate="0"></coverage>') == 81.5


@pytest.mark.parametrize("data, message", [
    (b"<html><body>502</body></html>", "not a coverage.py report"),
    (b"<coverage line-rate=", "does not parse"),
    (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><coverage/>', "DOCTYPE"),
    (b'{"meta": {}}', "not a coverage.py report"),
    (b"{broken", "does not parse"),
    (b"", "not a coverage.py report"),
])
def test_broken_reports_are_errors_not_zero(data, message):
    with pytest.raises(CollectorError, match=message):
        coverage.percent("coverage", data)


def test_a_report_that_measured_nothing_is_no_data():
    empty = b'{"totals": {"num_statements": 0, "num_branches": 0, "percent_covered": 100.0}}'
    assert coverage.percent("coverage", empty) is None


def test_missing_file(make_run, tmp_path):
    with pytest.raises(CollectorError, match="cannot read"):
        coverage.collect(make_run("coverage", CoverageSource(path=tmp_path / "nope.xml")))
