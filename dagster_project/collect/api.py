"""Pull monthly submissions that public bodies publish as JSON at an HTTPS endpoint.

Each body's token comes from the environment and is sent only to that body's configured URL: it is
never logged, never put in a result or message, and redirects are not followed (urllib would forward
the header to wherever the redirect points). A failing body yields a failed PullResult; it never
stops the others. Standard library only; Dagster wiring lives elsewhere.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import logging
import re
import ssl
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote, urlsplit

from dagster_project.collect.read import MAX_FILE_BYTES
from dagster_project.collect.validate import (
    ParsedFile,
    Problem,
    content_hash,
    parse_records,
)

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "DIGITAL_PROGRESS_TOKEN_"
# Endpoints pulled at the same time: enough that slow bodies wait side by side, few enough not
# to look like an attack on anyone's server.
MAX_CONCURRENT_PULLS = 8
# Plain http is for tests and local development only: a token must never cross a network in clear.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
BODY_CODE = re.compile(r"[A-Z0-9]+")
# A token is sent as-is in a header: printable ASCII without spaces, or http.client would reject
# it with an error quoting the token.
TOKEN_CHARACTERS = re.compile(r"[\x21-\x7e]+")
_JSON_KINDS = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true or false",
    type(None): "null",
}


def token_variable(body_code: str) -> str:
    """The environment variable holding a body's token, e.g. DIGITAL_PROGRESS_TOKEN_W06000015."""
    return TOKEN_PREFIX + body_code


@dataclass(frozen=True)
class Endpoint:
    body_code: str
    url: str


@dataclass(frozen=True)
class PullResult:
    body_code: str
    url: str
    status: str  # "ok" or "failed"
    attempts: int
    http_status: int | None
    message: str  # plain English; never contains the token
    data: bytes | None  # the payload when status == "ok"


def read_endpoints(path: Path) -> tuple[list[Endpoint], list[str]]:
    """Read the endpoints file (CSV: body_code,url): the usable endpoints, and one message per
    row refused (naming the file, row, column, what was found and what was expected). A bad row
    costs only its own body: the others are pulled. A body listed twice is refused on every
    row, since which address should receive its token cannot be told."""
    problems: list[str] = []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        unreadable = f"unreadable ({type(error).__name__})"
        return [], [f"{path}: {unreadable}; expected a UTF-8 CSV file body_code,url"]
    try:
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        return [], [f"{path}: not a CSV file ({error}); expected body_code,url"]
    header = [cell.strip() for cell in lines[0]] if lines else []
    if header != ["body_code", "url"]:
        return [], [f"{path}: row 1: found header {','.join(header)!r}; expected body_code,url"]
    rows: dict[str, list[tuple[int, str]]] = {}
    for number, line in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in line):
            continue

        def invalid(column: str, value: str, expected: str, number: int = number) -> None:
            problems.append(
                f"{path}: row {number}, column '{column}': found {value!r}; expected {expected}"
            )

        if len(line) != 2:
            invalid("", ",".join(line), "two cells: body_code,url")
            continue
        body_code, url = (cell.strip() for cell in line)
        if not BODY_CODE.fullmatch(body_code):
            invalid("body_code", body_code, "capital letters and digits, e.g. W06000015")
        elif not _safe_url(url):
            invalid(
                "url",
                url,
                "an https:// address written in ASCII "
                "(http:// only for 127.0.0.1, localhost or ::1)",
            )
        else:
            rows.setdefault(body_code, []).append((number, url))
    endpoints = []
    for body_code, listed in sorted(rows.items()):
        if len(listed) > 1:
            for number, _ in listed[1:]:
                problems.append(
                    f"{path}: row {number}, column 'body_code': found {body_code!r}; "
                    "expected each body once (every row of this body is skipped)"
                )
            continue
        endpoints.append(Endpoint(body_code, listed[0][1]))
    return endpoints, problems


def load_endpoints(path: Path) -> list[Endpoint]:
    """The endpoints file read strictly: ValueError naming the first refused row, if any."""
    endpoints, problems = read_endpoints(path)
    if problems:
        raise ValueError(problems[0])
    return endpoints


def _safe_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return False
    if not url.isascii() or not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)


@dataclass(frozen=True)
class _Attempt:
    """What one HTTP request came to; `reason` is final wording unless the failure is retryable."""

    data: bytes | None = None
    http_status: int | None = None
    retryable: bool = False
    reason: str = ""
    timed_out: bool = False


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx status


def _opener(url: str) -> urllib.request.OpenerDirector:
    # Environment proxies apply to real endpoints; a loopback address is always reached directly.
    proxies = {} if urlsplit(url).hostname in LOOPBACK_HOSTS else None
    return urllib.request.build_opener(
        _NoRedirects,
        urllib.request.ProxyHandler(proxies),
        urllib.request.HTTPSHandler(context=ssl.create_default_context()),
    )


def pull_endpoint(
    endpoint: Endpoint,
    token: str | None,
    *,
    timeout: float = 10.0,
    retries: int = 3,
    backoff: float = 0.5,
    sleep: Callable[[float], object] = time.sleep,
    max_bytes: int = MAX_FILE_BYTES,
) -> PullResult:
    """GET one body's payload with its bearer token, retrying what may pass (timeouts, connection
    errors, 5xx, 429) up to `retries` attempts in all, waiting backoff, 2*backoff, ... between them.
    `timeout` bounds each network wait and the whole download of the body (a server trickling bytes
    cannot hold a run). Never raises for network or HTTP problems."""
    if retries < 1:
        raise ValueError(f"retries must be at least 1, got {retries}")
    variable = token_variable(endpoint.body_code)

    def result(status: str, attempts: int, outcome: _Attempt, message: str) -> PullResult:
        return PullResult(
            endpoint.body_code,
            endpoint.url,
            status,
            attempts,
            outcome.http_status,
            _scrub(message, token),
            outcome.data,
        )

    token = (token or "").strip()
    unusable = ""
    if not token:
        unusable = f"no token: set {variable}"
    elif not TOKEN_CHARACTERS.fullmatch(token):
        unusable = (
            f"the token in {variable} has spaces, line breaks or non-ASCII characters, "
            "which cannot be sent in a header: set it again"
        )
    if unusable:
        logger.warning("pull %s not attempted: %s", endpoint.body_code, unusable)
        return result("failed", 0, _Attempt(), unusable)
    request = urllib.request.Request(endpoint.url, headers={"Accept": "application/json"})
    request.add_unredirected_header("Authorization", f"Bearer {token}")
    opener = _opener(endpoint.url)
    attempt = 0
    while True:
        attempt += 1
        outcome = _attempt(opener, request, token, variable, timeout, max_bytes)
        if outcome.data is not None:
            logger.info(
                "pulled %s: %d bytes, attempt %d", endpoint.body_code, len(outcome.data), attempt
            )
            return result("ok", attempt, outcome, f"received {len(outcome.data)} bytes")
        logger.warning(
            "pull %s attempt %d of %d failed: %s",
            endpoint.body_code,
            attempt,
            retries,
            _scrub(outcome.reason, token),
        )
        if not outcome.retryable:
            return result("failed", attempt, outcome, outcome.reason)
        if attempt == retries:
            plural = "s" if attempt > 1 else ""
            limit = f" (timeout {timeout} s)" if outcome.timed_out else ""
            return result(
                "failed",
                attempt,
                outcome,
                f"{outcome.reason} after {attempt} attempt{plural}{limit}",
            )
        sleep(backoff * 2 ** (attempt - 1))


def _attempt(
    opener: urllib.request.OpenerDirector,
    request: urllib.request.Request,
    token: str,
    variable: str,
    timeout: float,
    max_bytes: int,
) -> _Attempt:
    deadline = time.monotonic() + timeout
    try:
        with opener.open(request, timeout=timeout) as response:
            too_large = _Attempt(
                http_status=response.status,
                reason=f"the response is larger than the limit of {max_bytes} bytes",
            )
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                return too_large
            chunks, size = [], 0
            # read1 returns after each network read, so a body trickling in meets the deadline
            while chunk := response.read1(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    return too_large
                if time.monotonic() > deadline:
                    raise TimeoutError("the whole response took longer than the timeout")
                chunks.append(chunk)
            data = b"".join(chunks)
            if token.encode() in data:
                # A server echoing request headers would get the token stored with the data.
                return _Attempt(
                    http_status=response.status,
                    reason="the response contains the token itself, so it was not kept: "
                    "ask the body to fix the endpoint",
                )
            return _Attempt(data=data, http_status=response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return _http_failure(error, variable)
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            return _Attempt(retryable=True, reason="timed out", timed_out=True)
        if isinstance(error.reason, ssl.SSLCertVerificationError):
            return _Attempt(
                reason="the endpoint's TLS certificate was not accepted "
                f"({error.reason.verify_message}): the body must fix its certificate"
            )
        return _Attempt(retryable=True, reason=f"could not connect: {error.reason}")
    except TimeoutError:
        return _Attempt(retryable=True, reason="timed out", timed_out=True)
    except (http.client.HTTPException, OSError) as error:
        return _Attempt(retryable=True, reason=f"connection failed: {type(error).__name__} {error}")
    except Exception as error:
        # Not expected, but one body's surprise must not stop the others; keep the trace for
        # whoever runs the pipeline, with the token removed.
        logger.error(
            "unexpected error pulling %s:\n%s",
            request.full_url,
            _scrub(traceback.format_exc(), token),
        )
        return _Attempt(reason=f"unexpected error: {type(error).__name__} {error}")


def _http_failure(error: urllib.error.HTTPError, variable: str) -> _Attempt:
    code = error.code
    try:
        phrase = http.HTTPStatus(code).phrase
    except ValueError:
        phrase = "unknown status"
    if code in (401, 403):
        return _Attempt(
            http_status=code,
            reason=f"token rejected by the endpoint (HTTP {code}): renew the token in {variable}",
        )
    if code == 429 or code >= 500:
        return _Attempt(http_status=code, retryable=True, reason=f"HTTP {code} {phrase}")
    if 300 <= code < 400:
        location = error.headers.get("Location", "")
        return _Attempt(
            http_status=code,
            reason=f"redirected (HTTP {code}) to {location}: not followed, "
            "so the token goes only to the configured URL; "
            "put the final address in the endpoints file",
        )
    return _Attempt(
        http_status=code, reason=f"the endpoint answered HTTP {code} {phrase}: check the URL"
    )


def _scrub(text: str, token: str | None) -> str:
    """Remove the token, as sent or percent-encoded, from text that may quote what a server sent
    back (a redirect's address, an error)."""
    for form in {token, quote(token or "", safe="")} - {""}:
        text = text.replace(form, "[token]")
    return text


def pull_all(
    endpoints: list[Endpoint],
    environ: Mapping[str, str],
    concurrency: int = MAX_CONCURRENT_PULLS,
    **options,
) -> list[PullResult]:
    """Pull every endpoint with its body's token from `environ`, at most `concurrency` at a
    time, so one slow body costs its own timeout only; results in the endpoints' order. Options
    go to pull_endpoint. A failed body is a failed result, never an exception."""
    if not endpoints:
        return []

    def pull(endpoint: Endpoint) -> PullResult:
        return pull_endpoint(endpoint, environ.get(token_variable(endpoint.body_code)), **options)

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(endpoints)))) as pool:
        return list(pool.map(pull, endpoints))


def payload_submission(result: PullResult) -> ParsedFile:
    """An ok pull as a ParsedFile for the shared validation, sent by the endpoint's body and named
    by its content, so the same payload pulled twice is recognised by its hash."""
    if result.status != "ok" or result.data is None:
        raise ValueError(f"only an ok pull has a payload; {result.body_code} is {result.status}")
    data, body = result.data, result.body_code
    digest = content_hash(data)
    name = f"api/{body}/{digest[:16]}.json"

    def reject(rule: str, value: str, detail: str = "", column: str = "") -> ParsedFile:
        problem = Problem(name, 0, column, value, rule, detail)
        return ParsedFile(name, digest, sender=body, problems=[problem])

    if len(data) > MAX_FILE_BYTES:
        return reject("file_too_large", f"{len(data):,} bytes", f"{MAX_FILE_BYTES:,} bytes")
    try:
        # Decimals, not floats: a sum of money arrives as written (12.50), never rounded.
        payload = json.loads(data.decode("utf-8-sig"), parse_float=Decimal)
    except UnicodeDecodeError as error:
        return reject("malformed_json", f"byte {data[error.start]:#04x} at offset {error.start}")
    except json.JSONDecodeError as error:
        return reject("malformed_json", f"{error.msg} at line {error.lineno} column {error.colno}")
    except (ValueError, RecursionError) as error:  # e.g. a number of over 4300 digits
        return reject("malformed_json", type(error).__name__)
    if not isinstance(payload, dict):
        return reject(
            "malformed_json", f"{_JSON_KINDS.get(type(payload), 'a value')}, not an object"
        )
    if "submissions" not in payload:
        return reject("malformed_json", 'an object without "submissions"')
    if payload.get("body_code") != body:
        found = payload.get("body_code")
        return reject("wrong_body", "" if found is None else str(found), body, "body_code")
    # Rows about another body are the shared rules' to report (wrong_body per row, via sender).
    return parse_records(name, data, payload["submissions"], sender=body)
