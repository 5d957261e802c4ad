"""Collection as Dagster runs it: API endpoints pulled by the partitioned `submissions` asset
against a real HTTP server on 127.0.0.1, the landing-zone sensor, and resubmissions that change
the indicators while an older table can still be rebuilt with `as_of`."""

import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import duckdb
import pytest

from dagster_project.collect.assets import submissions
from dagster_project.collect.sensors import landing_zone_sensor
from dagster_project.definitions import ALL_ASSETS
from dagster_project.resources import PlatformSettings, build_resources
from dagster_project.settings import DataPaths
from tests.conftest import (
    CARDIFF,
    SWANSEA,
    TAX,
    other_bodies_return,
    row,
    submission,
    write_landing,
)

TOKEN = "cardiff-secret-token-123"


class Endpoints(BaseHTTPRequestHandler):
    """Cardiff publishes January; Swansea's endpoint is down."""

    def do_GET(self):  # noqa: N802 (the http.server API)
        if (
            self.path == f"/{CARDIFF}/2026-01"
            and self.headers["Authorization"] == f"Bearer {TOKEN}"
        ):
            body = json.dumps(
                {
                    "body_code": CARDIFF,
                    "submissions": [
                        {**row(CARDIFF, "2026-01", TAX, 1000, 750, True, False, 10, 90)}
                    ],
                }
            ).encode()
            self.send_response(200)
        else:
            body, code = b"down", 500 if SWANSEA in self.path else 401
            self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Endpoints)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def collect_january(root) -> dg.ExecuteInProcessResult:
    """The `submissions` asset alone, for January 2026, as a partitioned run does it."""
    result = dg.materialize(
        [submissions],
        partition_key="2026-01-01",
        resources=build_resources(PlatformSettings(data_root=str(root))),
    )
    assert result.success
    return result


def test_partition_run_pulls_each_endpoint_for_its_month(tmp_path, server, monkeypatch):
    paths = DataPaths(tmp_path).ensure()
    paths.endpoints.write_text(
        f"body_code,url\n{CARDIFF},{server}/{CARDIFF}/{{period}}\n{SWANSEA},{server}/{SWANSEA}/{{period}}\n"
    )
    monkeypatch.setenv(f"DIGITAL_PROGRESS_TOKEN_{CARDIFF}", TOKEN)
    monkeypatch.setenv(f"DIGITAL_PROGRESS_TOKEN_{SWANSEA}", "swansea-token-456")
    result = collect_january(tmp_path)
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        loaded = con.execute(
            "select f.source, f.sender, s.transactions_online from raw.submissions s "
            "join raw.submission_files f using (load_sequence)"
        ).fetchall()
        attempts = con.execute(
            "select body_code, status, attempts, http_status, message "
            "from raw.collection_attempts order by body_code"
        ).fetchall()
    assert loaded == [("api", CARDIFF, 750)]
    # ordered by body code: Swansea (W06000011) before Cardiff (W06000015)
    assert [a[:4] for a in attempts] == [(SWANSEA, "failed", 3, 500), (CARDIFF, "ok", 1, 200)]
    metadata = json.dumps([str(m) for m in result.get_asset_materialization_events()])
    for secret in (TOKEN, "swansea-token-456"):
        assert secret not in metadata and all(secret not in a[4] for a in attempts)


def test_a_bad_endpoints_row_never_stops_the_landing_zone_or_other_bodies(
    tmp_path, server, monkeypatch
):
    """Before: one bad row in api_endpoints.csv raised, and no body's file was collected."""
    paths = DataPaths(tmp_path).ensure()
    paths.endpoints.write_text(
        f"body_code,url\n{CARDIFF},{server}/{CARDIFF}/{{period}}\n{SWANSEA},ftp://nowhere/\n"
    )
    monkeypatch.setenv(f"DIGITAL_PROGRESS_TOKEN_{CARDIFF}", TOKEN)
    write_landing(
        paths,
        {f"{SWANSEA}/jan.csv": submission(row(SWANSEA, "2026-01", TAX, 10, 5, "yes", "no", 1, 1))},
    )
    result = collect_january(tmp_path)
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        loaded = con.execute(
            "select f.source, f.sender from raw.submission_files f order by f.sender"
        ).fetchall()
    assert loaded == [("landing", SWANSEA), ("api", CARDIFF)]
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["endpoint_rows_refused"].value == [
        f"{paths.endpoints}: row 3, column 'url': found 'ftp://nowhere/'; expected an https:// "
        "address written in ASCII (http:// only for 127.0.0.1, localhost or ::1)"
    ]


def test_sensor_requests_one_run_per_new_set_of_files(tmp_path):
    paths = DataPaths(tmp_path).ensure()
    write_landing(
        paths,
        {f"{CARDIFF}/jan.csv": submission(row(CARDIFF, "2026-01", TAX, 10, 5, "yes", "no", 1, 1))},
    )
    resources = {"settings": PlatformSettings(data_root=str(tmp_path))}
    # PlatformSettings has a teardown (it releases the run lock): contexts are opened with `with`
    with dg.build_sensor_context(resources=resources) as context:
        request = landing_zone_sensor(context)
    assert isinstance(request, dg.RunRequest) and request.partition_key
    assert len(request.run_key) == 64
    with dg.build_sensor_context(cursor=context.cursor, resources=resources) as later:
        again = landing_zone_sensor(later)
    assert isinstance(again, dg.SkipReason)


def league_score(paths: DataPaths, body: str) -> tuple:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(
            "select online_take_up, score from marts.league_table where body_code = ?", [body]
        ).fetchone()


def test_resubmission_changes_indicators_and_as_of_reproduces_the_old_table(tmp_path):
    paths = DataPaths(tmp_path).ensure()

    def run(as_of: str = ""):
        settings = PlatformSettings(data_root=str(tmp_path), as_of=as_of)
        assert dg.materialize(
            ALL_ASSETS, partition_key="2026-01-01", resources=build_resources(settings)
        ).success

    write_landing(
        paths,
        {
            f"{CARDIFF}/jan.csv": submission(
                row(CARDIFF, "2026-01", TAX, 100, 40, "yes", "no", 1, 1)
            ),
            f"{SWANSEA}/jan.csv": submission(
                row(SWANSEA, "2026-01", TAX, 100, 50, "yes", "no", 1, 1)
            ),
            **other_bodies_return(("2026-01",), besides=(CARDIFF, SWANSEA)),
        },
    )
    run()
    first_table = (paths.open_data / "league_table.csv").read_bytes()
    assert league_score(paths, CARDIFF)[0] == 0.4
    time.sleep(1.1)  # load times have one-second precision in the as_of setting
    published_at = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
    time.sleep(1.1)
    write_landing(
        paths,
        {
            f"{CARDIFF}/jan-corrected.csv": submission(
                row(CARDIFF, "2026-01", TAX, 100, 90, "yes", "no", 1, 1)
            )
        },
    )
    run()
    assert league_score(paths, CARDIFF)[0] == 0.9  # the resubmission supersedes
    run(as_of=published_at)
    assert league_score(paths, CARDIFF)[0] == 0.4
    assert (paths.open_data / "league_table.csv").read_bytes() == first_table
