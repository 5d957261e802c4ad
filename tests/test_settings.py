"""The publication month and as-of settings are checked before anything runs: by
`check_settings`, by `python -m dagster_project.settings --check` (what `make run` calls first),
and by the PlatformSettings resource when a run starts, so a bad value moves no file."""

import os
import subprocess
import sys
from datetime import date

import dagster as dg
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dagster_project.collect.assets import submissions
from dagster_project.resources import PlatformSettings, build_resources
from dagster_project.settings import (
    AS_OF_ENV,
    PUBLICATION_PERIOD_ENV,
    REPO_ROOT,
    DataPaths,
    SettingsError,
    check_settings,
)
from tests.conftest import CARDIFF, TAX, row, submission, write_landing

VALID_MONTHS = {f"{year:04d}-{month:02d}" for year in range(2000, 2101) for month in range(1, 13)}


@pytest.mark.parametrize("period", ["", "2000-01", "2026-09", "2026-10"])
def test_a_real_month_that_has_ended_or_empty_is_accepted(period):
    check_settings(period, "", today=date(2026, 11, 26))


@pytest.mark.parametrize("period", ["2026-11", "2026-12", "2030-01", "2100-12"])
def test_a_month_that_has_not_ended_is_refused_before_anything_runs(period):
    """On 26 November 2026 the latest month that has ended is October: a later month has no
    complete returns, and publishing it could only fail at the blocking test, after collecting."""
    with pytest.raises(SettingsError) as raised:
        check_settings(period, "", today=date(2026, 11, 26))
    assert str(raised.value) == (
        f"DIGITAL_PROGRESS_PERIOD={period!r}: expected a month that has ended, 2026-10 or earlier"
    )


def test_an_as_of_moment_in_the_future_is_refused():
    check_settings("", "2026-11-26 23:59", today=date(2026, 11, 26))
    with pytest.raises(SettingsError, match="expected a moment that has passed, 2026-11-26"):
        check_settings("", "2026-11-27", today=date(2026, 11, 26))


@pytest.mark.parametrize(
    "as_of", ["", "2026-10-16", "2026-10-16 06:00", "2026-10-16 06:00:00", "2024-02-29 23:59:59"]
)
def test_a_real_date_or_moment_or_empty_is_accepted(as_of):
    check_settings("", as_of)


@pytest.mark.parametrize(
    "period",
    [
        "2026-13",  # no such month
        "2026-00",
        "1999-12",  # before 2000
        "2101-01",  # after 2100
        "2026-9",  # month not two digits
        "2026-09-01",  # a date, not a month
        "2026/09",
        " 2026-09",
        "September 2026",
        "２０２６-０９",  # full-width digits: dbt's [0-9] refuses them
    ],
)
def test_an_invalid_month_is_rejected_naming_variable_value_and_expected(period):
    with pytest.raises(SettingsError) as raised:
        check_settings(period, "")
    assert str(raised.value) == (
        f"DIGITAL_PROGRESS_PERIOD={period!r}: expected a month as YYYY-MM "
        "(month 01-12, year 2000-2100), e.g. 2026-09"
    )


@pytest.mark.parametrize(
    "as_of",
    [
        "2026-02-30",  # no such day
        "2026-13-01",
        "2026-10-16 24:00",  # no such hour
        "2026-10-16 06:60:00",
        "2026-10-16T06:00:00",  # ISO 'T', which dbt's filter refuses
        "2026-10-16 06",
        "2026-10-16 06:00:00.5",
        "2026-1-5",
        "yesterday",
    ],
)
def test_an_invalid_as_of_is_rejected_naming_variable_value_and_expected(as_of):
    with pytest.raises(SettingsError) as raised:
        check_settings("", as_of)
    assert str(raised.value) == (
        f"DIGITAL_PROGRESS_AS_OF={as_of!r}: expected a date or date and time as YYYY-MM-DD, "
        "YYYY-MM-DD HH:MM or YYYY-MM-DD HH:MM:SS, e.g. 2026-10-16 06:00:00"
    )


def test_both_invalid_settings_are_reported_at_once():
    with pytest.raises(SettingsError) as raised:
        check_settings("2026-13", "2026-02-30")
    lines = str(raised.value).splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "DIGITAL_PROGRESS_PERIOD='2026-13'",
        "DIGITAL_PROGRESS_AS_OF='2026-02-30'",
    ]


def test_settings_error_is_a_value_error():
    assert issubclass(SettingsError, ValueError)


@given(st.one_of(st.text(), st.from_regex(r"[0-9]{4}-[0-9]{1,3}", fullmatch=True)))
def test_any_text_that_is_not_a_valid_month_is_rejected_naming_the_variable(text):
    assume(text and text not in VALID_MONTHS)
    with pytest.raises(SettingsError) as raised:
        check_settings(text, "")
    assert str(raised.value).startswith(f"{PUBLICATION_PERIOD_ENV}={text!r}: ")


def run_check(period: str | None, as_of: str | None) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if k not in (PUBLICATION_PERIOD_ENV, AS_OF_ENV)
    }
    for name, value in ((PUBLICATION_PERIOD_ENV, period), (AS_OF_ENV, as_of)):
        if value is not None:
            environment[name] = value
    return subprocess.run(
        [sys.executable, "-m", "dagster_project.settings", "--check"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("period", "as_of"), [(None, None), ("", ""), ("2026-09", "2026-10-16 06:00:00")]
)
def test_check_command_is_silent_and_exits_0_when_settings_are_valid(period, as_of):
    checked = run_check(period, as_of)
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")


def test_check_command_exits_2_with_the_problem_on_stderr():
    checked = run_check("2026-13", "2026-10-16 06:00:00")
    assert checked.returncode == 2
    assert checked.stdout == ""
    assert checked.stderr.startswith("DIGITAL_PROGRESS_PERIOD='2026-13': expected a month")

    checked = run_check(None, "2026-02-30")
    assert checked.returncode == 2
    assert checked.stderr.startswith("DIGITAL_PROGRESS_AS_OF='2026-02-30': expected a date")


def test_resource_falls_back_to_the_environment_and_dbt_vars_are_checked(monkeypatch, tmp_path):
    monkeypatch.setenv(AS_OF_ENV, "2026-02-30")
    settings = PlatformSettings(data_root=str(tmp_path))
    with pytest.raises(SettingsError, match="DIGITAL_PROGRESS_AS_OF='2026-02-30'"):
        settings.dbt_vars()
    # Its own field wins over the environment.
    monkeypatch.setenv(PUBLICATION_PERIOD_ENV, "2026-13")
    settings = PlatformSettings(data_root=str(tmp_path), publication_period="2026-09", as_of="")
    monkeypatch.delenv(AS_OF_ENV)
    assert settings.dbt_vars()["publication_period"] == "2026-09"


def test_run_with_an_invalid_month_fails_before_collecting_anything(tmp_path, monkeypatch):
    monkeypatch.delenv(PUBLICATION_PERIOD_ENV, raising=False)
    monkeypatch.delenv(AS_OF_ENV, raising=False)
    paths = DataPaths(tmp_path).ensure()
    name = f"{CARDIFF}/{CARDIFF}_2026-01.csv"
    data = submission(row(CARDIFF, "2026-01", TAX, 100, 40, "yes", "no", 1, 1))
    write_landing(paths, {name: data})

    result = dg.materialize(
        [submissions],
        partition_key="2026-01-01",
        resources=build_resources(
            PlatformSettings(data_root=str(tmp_path), publication_period="2026-13")
        ),
        raise_on_error=False,
    )

    assert not result.success
    errors = {
        event.event_type: event.event_specific_data.error
        for event in result.all_events
        if event.event_type
        in (dg.DagsterEventType.RESOURCE_INIT_FAILURE, dg.DagsterEventType.RUN_FAILURE)
    }
    resource_error = errors[dg.DagsterEventType.RESOURCE_INIT_FAILURE]
    assert resource_error.cls_name == "SettingsError"
    assert resource_error.message.startswith(
        "dagster_project.settings.SettingsError: "
        "DIGITAL_PROGRESS_PERIOD='2026-13': expected a month"
    )
    # The run's own failure carries the same message as its cause.
    assert (
        "DIGITAL_PROGRESS_PERIOD='2026-13'" in errors[dg.DagsterEventType.RUN_FAILURE].to_string()
    )
    assert not result.get_asset_materialization_events()
    assert (paths.landing / name).read_bytes() == data  # still in landing/, untouched
    assert sorted(p.name for p in paths.landing.rglob("*") if p.is_file()) == [name.split("/")[1]]
    assert not any(paths.quarantine.iterdir()) and not any(paths.archive.iterdir())
    assert not paths.warehouse.exists()
