"""SQL, repository and script collectors: real databases, a real folder tree, real processes."""

from __future__ import annotations

import base64
import sys

import pytest
from sqlalchemy import create_engine, text

from aurum.collectors import repository, script, sql
from aurum.collectors.base import CollectorError
from aurum.collectors.config import RepositorySource, ScriptSource, SqlQuery
from tests.fakes.http_api import Reply

SEED_QUERY = """SELECT COUNT(*) as total_endpoints,
  COUNT(CASE WHEN extracted = true THEN 1 END) as extracted_endpoints,
  (COUNT(CASE WHEN extracted = true THEN 1 END) * 100.0 / COUNT(*)) as completion_percentage
FROM api_endpoints_tracking"""


@pytest.fixture
def tracking_db(database_url):
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE api_endpoints_tracking (name VARCHAR(40), extracted BOOLEAN)"))
        conn.execute(text("INSERT INTO api_endpoints_tracking VALUES ('a', true), ('b', true), ('c', false), "
                          "('d', true)"))
    engine.dispose()
    return database_url


def sql_run(make_run, url: str, query: str = SEED_QUERY, column: str | None = "completion_percentage", **extra):
    item = SqlQuery(kpi="api_migration_completion_percentage", url=url, query=query, column=column, **extra)
    return sql.collect(make_run("sql", [item]))


def test_the_seeds_migration_query(make_run, tracking_db):
    out = sql_run(make_run, tracking_db)
    assert [(p.kpi, p.value) for p in out.points] == [("api_migration_completion_percentage", 75.0)]


def test_several_columns_need_a_column_name(make_run, tracking_db):
    with pytest.raises(CollectorError, match="name one with column"):
        sql_run(make_run, tracking_db, column=None)


def test_the_query_cannot_write(make_run, tracking_db):
    query = "WITH x AS (SELECT 1) UPDATE api_endpoints_tracking SET extracted = true RETURNING 1"
    with pytest.raises(CollectorError, match="query failed"):
        sql_run(make_run, tracking_db, query=query, column=None)
    engine = create_engine(tracking_db)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM api_endpoints_tracking WHERE extracted")).scalar() == 3
    engine.dispose()


def test_a_slow_query_hits_the_statement_timeout(make_run, tracking_db):
    slow = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) "
            "SELECT COUNT(*) FROM n")
    with pytest.raises(CollectorError, match="longer than 0.2 s|statement timeout|canceling"):
        sql_run(make_run, tracking_db, query=slow, column=None, timeout_seconds=0.2)


def test_config_refuses_statements_other_than_select():
    with pytest.raises(ValueError, match="one SELECT"):
        SqlQuery(kpi="x", url="sqlite://", query="DELETE FROM t")
    with pytest.raises(ValueError, match="one SELECT"):
        SqlQuery(kpi="x", url="sqlite://", query="SELECT 1; DROP TABLE t")


@pytest.fixture
def checkout(tmp_path):
    root = tmp_path / "repo"
    (root / "src/aurum/api/services").mkdir(parents=True)
    (root / "src/aurum/api/dao").mkdir(parents=True)
    (root / "src/aurum/api/service.py").write_text("".join(f"line {i}\n" for i in range(1234)))
    for name in ("curves", "metadata", "scenarios", "__init__"):
        (root / f"src/aurum/api/services/{name}.py").write_text("")
    (root / "src/aurum/api/services/README.md").write_text("")
    (root / "src/aurum/api/dao/curves.py").write_text("")
    return root


COUNTS = [{"kpi": "monolithic_service_loc", "lines": "src/aurum/api/service.py"},
          {"kpi": "domain_services_count", "files": "src/aurum/api/services/*.py"},
          {"kpi": "dao_implementation_count", "files": "src/aurum/api/dao/*.py"}]


def test_repository_counts_in_a_checkout(make_run, checkout):
    out = repository.collect(make_run("repository", RepositorySource(path=checkout, counts=COUNTS)))
    assert {p.kpi: p.value for p in out.points} == {
        "monolithic_service_loc": 1234, "domain_services_count": 4, "dao_implementation_count": 1}


def test_repository_counts_through_the_contents_api(make_run, api):
    content = base64.b64encode(b"a\nb\nc\n").decode()
    api.on("GET", "/repos/acme/aurum/contents/src/aurum/api/service.py",
           Reply({"type": "file", "encoding": "base64", "content": content, "name": "service.py"}))
    api.on("GET", "/repos/acme/aurum/contents/src/aurum/api/services",
           Reply([{"type": "file", "name": "a.py"}, {"type": "file", "name": "b.py"}, {"type": "dir", "name": "c.py"},
                  {"type": "file", "name": "README.md"}]))
    api.on("GET", "/repos/acme/aurum/contents/src/aurum/api/dao", Reply({"message": "Not Found"}, 404))
    config = RepositorySource(github="acme/aurum", api_url=api.url, ref="main", counts=COUNTS)
    out = repository.collect(make_run("repository", config, github_token="ghp_x"))
    assert {p.kpi: p.value for p in out.points} == {"monolithic_service_loc": 3, "domain_services_count": 2}
    assert out.errors == ["dao_implementation_count: /repos/acme/aurum/contents/src/aurum/api/dao: not found (404)"]
    assert api.calls()[0].param("ref") == "main"
    assert api.calls()[0].headers["Authorization"] == "Bearer ghp_x"


def test_repository_paths_stay_inside_the_checkout(make_run, checkout):
    config = RepositorySource(path=checkout, counts=[{"kpi": "monolithic_service_loc", "lines": "../../etc/passwd"}])
    with pytest.raises(CollectorError, match="outside the checkout"):
        repository.collect(make_run("repository", config))


def _script(command, **extra) -> ScriptSource:
    return ScriptSource(kpi="dependency_conflicts", command=command, **extra)


def test_script_last_number_of_the_output(make_run):
    item = _script([sys.executable, "-c", "print('checked 12 packages'); print('conflicts: 3')"])
    out = script.collect(make_run("script", [item]))
    assert [(p.kpi, p.value) for p in out.points] == [("dependency_conflicts", 3.0)]


def test_script_grep_style_exit_code_can_be_allowed(make_run):
    command = f"{sys.executable} -c \"print(0); raise SystemExit(1)\""
    with pytest.raises(CollectorError, match="exited with 1"):
        script.collect(make_run("script", [_script(command)]))
    out = script.collect(make_run("script", [_script(command, ok_exit_codes=[0, 1])]))
    assert out.points[0].value == 0.0


def test_script_timeout_and_missing_program(make_run):
    slow = _script([sys.executable, "-c", "import select; select.select([], [], [], 5)"], timeout_seconds=0.3)
    with pytest.raises(CollectorError, match="did not finish within 0.3 s"):
        script.collect(make_run("script", [slow]))
    with pytest.raises(CollectorError, match="cannot run"):
        script.collect(make_run("script", [_script(["/nonexistent/tool"])]))


def test_script_without_a_number_is_no_data(make_run):
    out = script.collect(make_run("script", [_script([sys.executable, "-c", "print('all good')"])]))
    assert out.points == [] and out.notes == ["dependency_conflicts: the output had no number"]
