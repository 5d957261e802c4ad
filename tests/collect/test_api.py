"""The API collector against a real HTTP server on 127.0.0.1: retries, timeouts, token handling.

Backoff waits are recorded by a fake `sleep`, never slept. Every test that pulls is checked at
teardown: no token appears in any PullResult field nor in any log record (captured at DEBUG).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dagster_project.collect.api import (
    Endpoint,
    PullResult,
    load_endpoints,
    payload_submission,
    pull_all,
    pull_endpoint,
    read_endpoints,
    token_variable,
)
from dagster_project.collect.read import MAX_FILE_BYTES
from dagster_project.collect.validate import Problem, validate_files
from tests.conftest import ANGLESEY, CARDIFF, GWYNEDD, SWANSEA, TAX

TOKEN = "dp-live-3f9c1a7e5b2d4c6f8a0e"
OLD_TOKEN = "dp-live-expired-77aa11bb22cc"
TODAY = date(2026, 3, 15)
CARDIFF_TOKEN_VARIABLE = "DIGITAL_PROGRESS_TOKEN_W06000015"
PAYLOAD_EXPECTED = 'a JSON object {"body_code": ..., "submissions": [...]}'

GOOD_ROW = {
    "body_code": CARDIFF,
    "period": "2026-01",
    "service_code": TAX,
    "transactions_total": 1000,
    "transactions_online": 600,
    "available_online": True,
    "digital_by_default": False,
    "letters_posted": 400,
    "digital_notifications": 600,
}


def payload(body: str = CARDIFF, rows: tuple[dict, ...] = (GOOD_ROW,)) -> bytes:
    return json.dumps({"body_code": body, "submissions": list(rows)}).encode()


# --- a real server ------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    rendezvous: threading.Barrier | None = None  # answer only once every party has arrived
    trickle: float = 0.0  # seconds between body bytes
    content_length: bool = True


class Endpoints(ThreadingHTTPServer):
    """Each path answers its scripted replies in turn (the last repeats), and only to TOKEN: any
    other Authorization header gets 401, as an endpoint does when a token has expired."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.replies: dict[str, list[Reply]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()  # set at teardown so delayed replies end at once

    def answer(self, path: str, *replies: Reply, body: str = CARDIFF) -> Endpoint:
        self.replies[path] = list(replies)
        return Endpoint(body, self.url(path))

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_port}{path}"

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    def next_reply(self, path: str) -> Reply:
        with self.lock:
            queue = self.replies.get(path, [Reply(404)])
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def handle_error(self, request, client_address) -> None:
        pass  # a client that gave up closed its end; that is the point of those tests


class _Handler(BaseHTTPRequestHandler):
    server: Endpoints

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.requests.append((self.path, dict(self.headers)))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            reply = Reply(401, b'{"error": "invalid_token"}')
        else:
            reply = self.server.next_reply(self.path)
        self.server.stopping.wait(reply.delay)
        if reply.rendezvous is not None:
            try:
                reply.rendezvous.wait()
            except threading.BrokenBarrierError:
                reply = Reply(503)
        self.send_response(reply.status)
        if reply.content_length:
            self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not reply.trickle:
            self.wfile.write(reply.body)
        for byte in reply.body if reply.trickle else b"":
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            self.server.stopping.wait(reply.trickle)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serving(server: Endpoints) -> Iterator[Endpoints]:
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def server():
    with serving(Endpoints()) as running:
        yield running


class Puller:
    """pull_endpoint with test defaults (TOKEN, timeout 0.5 s, a sleep that only records)."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.results: list[PullResult] = []
        self.tokens = {TOKEN, OLD_TOKEN}

    def __call__(self, endpoint: Endpoint, token: str | None = TOKEN, **options) -> PullResult:
        if token and token.strip():
            self.tokens.add(token.strip())
        result = pull_endpoint(
            endpoint, token, **{"timeout": 0.5, "sleep": self.delays.append, **options}
        )
        self.results.append(result)
        return result


@pytest.fixture
def pull(caplog):
    caplog.set_level(logging.DEBUG)
    puller = Puller()
    yield puller
    # caplog.text holds only the current phase (teardown by now): read the test's own records.
    records = caplog.get_records("setup") + caplog.get_records("call")
    logged = "\n".join(record.getMessage() for record in records)
    assert logged or not puller.results, "nothing logged: the token check below would be vacuous"
    for token in puller.tokens:
        for result in puller.results:
            for name, value in dataclasses.asdict(result).items():
                text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                assert token not in text, f"token in PullResult.{name}"
        assert token not in logged, "token in the logs"


def outcome(result: PullResult) -> tuple:
    return (result.status, result.attempts, result.http_status, result.message)


# --- pulling ------------------------------------------------------------------------------------


def test_a_good_payload_is_pulled_and_reads_as_rows_with_no_problems(server, pull, reference):
    data = payload()
    result = pull(server.answer("/cardiff", Reply(200, data)))
    assert outcome(result) == ("ok", 1, 200, f"received {len(data)} bytes")
    assert result.data == data and pull.delays == []

    parsed = payload_submission(result)
    name = f"api/W06000015/{hashlib.sha256(data).hexdigest()[:16]}.json"
    assert (parsed.name, parsed.content_hash, parsed.sender, parsed.problems) == (
        name,
        hashlib.sha256(data).hexdigest(),
        CARDIFF,
        [],
    )
    assert parsed.rows == [
        {
            "body_code": "W06000015",
            "period": "2026-01",
            "service_code": "la_council_tax_payment",
            "transactions_total": "1000",
            "transactions_online": "600",
            "transactions_phone": "",
            "transactions_face_to_face": "",
            "transactions_paper": "",
            "transactions_other": "",
            "available_online": "yes",
            "digital_by_default": "no",
            "letters_posted": "400",
            "digital_notifications": "600",
            "notes": "",
            "online_started": "",
            "satisfaction_responses": "",
            "satisfied_responses": "",
            "cost_total": "",
            "transactions_online_welsh": "",
            "_row": "1",
        }
    ]
    assert validate_files([parsed], reference, TODAY) == {name: []}


def test_the_server_receives_the_token_as_a_bearer_header_and_json_is_asked_for(server, pull):
    # The handler answers 401 to anything but "Bearer TOKEN", so ok means it received the token.
    assert pull(server.answer("/cardiff", Reply(200, payload()))).status == "ok"
    [(path, headers)] = server.requests
    assert (path, headers["Authorization"], headers["Accept"]) == (
        "/cardiff",
        f"Bearer {TOKEN}",
        "application/json",
    )


def test_a_slow_endpoint_times_out_on_every_attempt(server, pull):
    result = pull(server.answer("/slow", Reply(200, payload(), delay=5)))
    assert outcome(result) == ("failed", 3, None, "timed out after 3 attempts (timeout 0.5 s)")
    assert pull.delays == [0.5, 1.0] and result.data is None
    assert server.paths() == ["/slow"] * 3


def test_a_body_trickling_in_past_the_timeout_times_out(server, pull):
    # Each byte comes within the socket timeout; only the whole-download deadline stops it.
    result = pull(server.answer("/trickle", Reply(200, payload(), trickle=0.05)), retries=1)
    assert outcome(result) == ("failed", 1, None, "timed out after 1 attempt (timeout 0.5 s)")


def test_server_errors_are_retried_with_exponential_backoff(server, pull):
    data = payload()
    result = pull(server.answer("/flaky", Reply(500), Reply(500), Reply(200, data)))
    assert outcome(result) == ("ok", 3, 200, f"received {len(data)} bytes")
    assert result.data == data and pull.delays == [0.5, 1.0]


def test_an_endpoint_that_always_fails_gives_up_after_the_retries(server, pull, caplog):
    result = pull(server.answer("/down", Reply(500)), retries=4, backoff=0.25)
    assert outcome(result) == ("failed", 4, 500, "HTTP 500 Internal Server Error after 4 attempts")
    assert pull.delays == [0.25, 0.5, 1.0] and server.paths() == ["/down"] * 4
    assert "pull W06000015 attempt 4 of 4 failed: HTTP 500 Internal Server Error" in caplog.text


def test_rate_limiting_is_retried(server, pull):
    result = pull(server.answer("/busy", Reply(429), Reply(200, payload())))
    assert (result.status, result.attempts, result.http_status) == ("ok", 2, 200)
    assert pull.delays == [0.5]


def test_not_found_is_not_retried(server, pull):
    result = pull(server.answer("/gone", Reply(404)))
    assert outcome(result) == (
        "failed",
        1,
        404,
        "the endpoint answered HTTP 404 Not Found: check the URL",
    )
    assert pull.delays == [] and server.paths() == ["/gone"]


def test_an_expired_token_is_rejected_once_naming_the_variable_not_the_token(server, pull):
    result = pull(server.answer("/cardiff", Reply(200, payload())), OLD_TOKEN)
    assert outcome(result) == (
        "failed",
        1,
        401,
        "token rejected by the endpoint (HTTP 401): renew the token in "
        "DIGITAL_PROGRESS_TOKEN_W06000015",
    )
    assert pull.delays == []
    assert server.requests[0][1]["Authorization"] == f"Bearer {OLD_TOKEN}"


def test_a_forbidden_token_is_rejected_too(server, pull):
    result = pull(server.answer("/cardiff", Reply(403)))
    assert outcome(result) == (
        "failed",
        1,
        403,
        f"token rejected by the endpoint (HTTP 403): renew the token in {CARDIFF_TOKEN_VARIABLE}",
    )


@pytest.mark.parametrize("token", [None, "", "   "])
def test_no_token_fails_at_once_without_contacting_the_endpoint(server, pull, token):
    result = pull(server.answer("/cardiff", Reply(200, payload())), token)
    assert outcome(result) == ("failed", 0, None, f"no token: set {CARDIFF_TOKEN_VARIABLE}")
    assert server.requests == []


def test_a_token_that_cannot_go_in_a_header_is_refused_without_quoting_it(server, pull):
    result = pull(server.answer("/cardiff", Reply(200)), "dp-live-9d8e\r\nX-Injected: yes")
    assert outcome(result) == (
        "failed",
        0,
        None,
        f"the token in {CARDIFF_TOKEN_VARIABLE} has spaces, line breaks or non-ASCII "
        "characters, which cannot be sent in a header: set it again",
    )
    assert server.requests == []


def test_redirects_are_not_followed_so_the_token_goes_nowhere_else(server, pull):
    server.answer("/elsewhere", Reply(200, payload()))
    moved = Reply(302, headers={"Location": server.url(f"/elsewhere?token={TOKEN}")})
    result = pull(server.answer("/moved", moved))
    assert outcome(result) == (
        "failed",
        1,
        302,
        f"redirected (HTTP 302) to {server.url('/elsewhere?token=[token]')}: not followed, "
        "so the token goes only to the configured URL; put the final address in the endpoints file",
    )
    assert server.paths() == ["/moved"]


@pytest.mark.parametrize("content_length", [True, False])
def test_a_response_over_max_bytes_fails(server, pull, content_length):
    big = server.answer("/big", Reply(200, b"x" * 11, content_length=content_length))
    result = pull(big, max_bytes=10)
    assert outcome(result) == (
        "failed",
        1,
        200,
        "the response is larger than the limit of 10 bytes",
    )
    assert result.data is None
    server.answer("/fits", Reply(200, b"x" * 10, content_length=content_length))
    assert pull(Endpoint(CARDIFF, server.url("/fits")), max_bytes=10).data == b"x" * 10


def test_a_response_echoing_the_token_is_not_kept(server, pull):
    echo = f'{{"authorization": "Bearer {TOKEN}"}}'.encode()
    result = pull(server.answer("/echo", Reply(200, echo)))
    assert outcome(result) == (
        "failed",
        1,
        200,
        "the response contains the token itself, so it was not kept: "
        "ask the body to fix the endpoint",
    )
    assert result.data is None


def test_a_refused_connection_is_retried(pull):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = pull(Endpoint(CARDIFF, f"http://127.0.0.1:{port}/"))
    assert (result.status, result.attempts, result.http_status) == ("failed", 3, None)
    assert result.message.startswith("could not connect: ")
    assert result.message.endswith("Connection refused after 3 attempts")
    assert pull.delays == [0.5, 1.0]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_an_untrusted_tls_certificate_fails_without_retrying(tmp_path, pull):
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + [
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ]
        + ["-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    tls = Endpoints()
    tls.socket = context.wrap_socket(tls.socket, server_side=True)
    with serving(tls) as running:
        result = pull(Endpoint(CARDIFF, f"https://127.0.0.1:{running.server_port}/"))
    assert (result.status, result.attempts, result.http_status) == ("failed", 1, None)
    assert result.message.startswith("the endpoint's TLS certificate was not accepted (self")
    assert result.message.endswith("): the body must fix its certificate")
    assert tls.requests == []


def test_pull_all_keeps_order_and_one_body_failing_never_stops_the_others(server, pull):
    endpoints = [
        server.answer("/anglesey", Reply(500), body=ANGLESEY),
        server.answer("/cardiff", Reply(200, payload()), body=CARDIFF),
        server.answer("/gwynedd", Reply(200, payload(GWYNEDD)), body=GWYNEDD),
    ]
    environ = {token_variable(ANGLESEY): TOKEN, token_variable(CARDIFF): TOKEN}
    results = pull_all(endpoints, environ, timeout=0.5, sleep=pull.delays.append)
    pull.results.extend(results)
    assert [(r.body_code, *outcome(r)) for r in results] == [
        (ANGLESEY, "failed", 3, 500, "HTTP 500 Internal Server Error after 3 attempts"),
        (CARDIFF, "ok", 1, 200, f"received {len(payload())} bytes"),
        (GWYNEDD, "failed", 0, None, "no token: set DIGITAL_PROGRESS_TOKEN_W06000002"),
    ]
    assert results[1].data == payload() and pull.delays == [0.5, 1.0]
    # pulled side by side: the order of requests is the server's, the count is exact
    assert sorted(server.paths()) == ["/anglesey"] * 3 + ["/cardiff"]


def test_endpoints_are_pulled_side_by_side_so_a_slow_body_costs_only_its_own_time(server, pull):
    """Each endpoint answers only once the other's request has arrived too (a rendezvous): pulled
    one after another, the first would wait in vain and fail; side by side, both succeed."""
    meeting = threading.Barrier(2, timeout=5)
    endpoints = [
        server.answer("/cardiff", Reply(200, payload(), rendezvous=meeting), body=CARDIFF),
        server.answer("/swansea", Reply(200, payload(SWANSEA), rendezvous=meeting), body=SWANSEA),
    ]
    environ = {token_variable(CARDIFF): TOKEN, token_variable(SWANSEA): TOKEN}
    results = pull_all(endpoints, environ, timeout=10, sleep=pull.delays.append)
    pull.results.extend(results)
    assert [(r.body_code, r.status, r.attempts) for r in results] == [
        (CARDIFF, "ok", 1),
        (SWANSEA, "ok", 1),
    ]


def test_a_bad_endpoints_row_costs_only_its_own_body(tmp_path):
    path = write(
        tmp_path,
        "body_code,url\n"
        "W06000015,https://api.cardiff.gov.uk/\n"
        "W06000011,http://swansea.example/\n"
        "W06000002,https://a.example/\n"
        "W06000002,https://b.example/\n"
        "broken row\n",
    )
    endpoints, problems = read_endpoints(path)
    assert endpoints == [Endpoint("W06000015", "https://api.cardiff.gov.uk/")]
    assert problems == [
        f"{path}: row 3, column 'url': found 'http://swansea.example/'; expected {URL_EXPECTED}",
        f"{path}: row 6, column '': found 'broken row'; expected two cells: body_code,url",
        f"{path}: row 5, column 'body_code': found 'W06000002'; "
        "expected each body once (every row of this body is skipped)",
    ]


# --- the payload as a submission ----------------------------------------------------------------


def test_malformed_json_is_one_malformed_json_problem(server, pull):
    data = b'{"body_code": "W06000015", "submissions": ['
    result = pull(server.answer("/broken", Reply(200, data)))
    assert outcome(result) == ("ok", 1, 200, f"received {len(data)} bytes")
    parsed = payload_submission(result)
    assert parsed.rows == []
    assert parsed.problems == [
        Problem(parsed.name, 0, "", "Expecting value at line 1 column 44", "malformed_json")
    ]
    assert parsed.problems[0].expected("en") == PAYLOAD_EXPECTED


def _ok(data: bytes, body: str = CARDIFF) -> PullResult:
    return PullResult(body, "https://example.invalid/", "ok", 1, 200, "", data)


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"\xff{}", "byte 0xff at offset 0"),
        (b"[]", "an array, not an object"),
        (b'"W06000015"', "a string, not an object"),
        (b'{"body_code": "W06000015"}', 'an object without "submissions"'),
        (b"[" * 100_000, "RecursionError"),
    ],
)
def test_a_payload_that_is_not_the_agreed_object_is_malformed_json(data, found):
    parsed = payload_submission(_ok(data))
    assert [(p.row, p.column, p.value, p.rule, p.expected("en")) for p in parsed.problems] == [
        (0, "", found, "malformed_json", PAYLOAD_EXPECTED)
    ]
    assert parsed.rows == []


def test_a_payload_too_large_to_validate_is_file_too_large():
    [problem] = payload_submission(_ok(b" " * (MAX_FILE_BYTES + 1))).problems
    assert (problem.row, problem.value, problem.rule) == (
        0,
        f"{MAX_FILE_BYTES + 1:,} bytes",
        "file_too_large",
    )
    assert problem.expected("en") == f"a file of at most {MAX_FILE_BYTES:,} bytes"


def test_a_payload_about_another_body_is_wrong_body(server, pull):
    result = pull(server.answer("/cardiff", Reply(200, payload(SWANSEA))))
    parsed = payload_submission(result)
    assert parsed.rows == []
    assert parsed.problems == [
        Problem(parsed.name, 0, "body_code", "W06000011", "wrong_body", "W06000015")
    ]
    expected = parsed.problems[0].expected("en")
    assert expected == "figures about W06000015 only, the body that sent them"


def test_a_row_about_another_body_in_a_bodys_own_payload_is_caught_by_the_shared_rules(reference):
    parsed = payload_submission(_ok(payload(rows=(GOOD_ROW, {**GOOD_ROW, "body_code": SWANSEA}))))
    assert (parsed.sender, parsed.problems, len(parsed.rows)) == (CARDIFF, [], 2)
    found = validate_files([parsed], reference, TODAY)[parsed.name]
    assert [(p.row, p.column, p.value, p.rule, p.detail) for p in found] == [
        (2, "body_code", SWANSEA, "wrong_body", CARDIFF)
    ]


def test_the_same_payload_twice_has_the_same_name_and_a_changed_one_does_not():
    first, again = payload_submission(_ok(payload())), payload_submission(_ok(payload()))
    changed = payload_submission(_ok(payload(rows=({**GOOD_ROW, "letters_posted": 399},))))
    assert first.name == again.name and first.content_hash == again.content_hash
    assert changed.name != first.name and changed.name.startswith("api/W06000015/")


def test_only_an_ok_pull_has_a_payload():
    failed = PullResult(CARDIFF, "https://example.invalid/", "failed", 0, None, "no token", None)
    with pytest.raises(ValueError, match="only an ok pull has a payload; W06000015 is failed"):
        payload_submission(failed)


# --- the endpoints file -------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "endpoints.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_endpoints_file_is_read_and_sorted_by_body(tmp_path):
    path = write(
        tmp_path,
        "\ufeffbody_code,url\n"
        "W06000015,https://api.cardiff.gov.uk/digital-progress\n"
        "\n"
        "W06000011 , https://swansea.example/api?month=latest \n"
        "W06000001,http://127.0.0.1:8080/local\n"
        "W06000002,http://localhost/dev\n"
        "W11000028,http://[::1]:9000/\n",
    )
    assert load_endpoints(path) == [
        Endpoint("W06000001", "http://127.0.0.1:8080/local"),
        Endpoint("W06000002", "http://localhost/dev"),
        Endpoint("W06000011", "https://swansea.example/api?month=latest"),
        Endpoint("W06000015", "https://api.cardiff.gov.uk/digital-progress"),
        Endpoint("W11000028", "http://[::1]:9000/"),
    ]


URL_EXPECTED = "an https:// address written in ASCII (http:// only for 127.0.0.1, localhost or ::1)"


@pytest.mark.parametrize(
    "url",
    [
        "http://api.cardiff.gov.uk/digital-progress",
        "http://localhost.evil.example/",
        "ftp://api.cardiff.gov.uk/",
        "https://",
        "https://api.cardiff.gov.uk:port/",
        "https://cyngor.cymru/gwasanaethau-ŵ",
        "api.cardiff.gov.uk/digital-progress",
    ],
)
def test_an_endpoint_that_could_leak_the_token_is_refused_naming_the_row(tmp_path, url):
    path = write(tmp_path, f"body_code,url\nW06000011,https://swansea.example/\n{CARDIFF},{url}\n")
    with pytest.raises(ValueError) as error:
        load_endpoints(path)
    assert (
        str(error.value) == f"{path}: row 3, column 'url': found {url!r}; expected {URL_EXPECTED}"
    )


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            "w06000015,https://a.example/\n",
            "row 2, column 'body_code': found 'w06000015'; "
            "expected capital letters and digits, e.g. W06000015",
        ),
        (
            "W06-15,https://a.example/\n",
            "row 2, column 'body_code': found 'W06-15'; "
            "expected capital letters and digits, e.g. W06000015",
        ),
        (
            "W06000015,https://a.example/\nW06000015,https://b.example/\n",
            "row 3, column 'body_code': found 'W06000015'; "
            "expected each body once (every row of this body is skipped)",
        ),
        (
            "W06000015,https://a.example/,extra\n",
            "row 2, column '': found 'W06000015,https://a.example/,extra'; "
            "expected two cells: body_code,url",
        ),
    ],
)
def test_a_bad_endpoints_row_is_refused_naming_row_column_and_value(tmp_path, rows, message):
    path = write(tmp_path, "body_code,url\n" + rows)
    with pytest.raises(ValueError) as error:
        load_endpoints(path)
    assert str(error.value) == f"{path}: {message}"


def test_an_endpoints_file_without_its_header_is_refused(tmp_path):
    path = write(tmp_path, "W06000015,https://a.example/\n")
    with pytest.raises(ValueError) as error:
        load_endpoints(path)
    assert str(error.value) == (
        f"{path}: row 1: found header 'W06000015,https://a.example/'; expected body_code,url"
    )
