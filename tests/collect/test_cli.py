"""`digital-progress`: the command public bodies run before sending a file."""

import errno
import io
import shlex
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from dagster_project.collect.cli import main, os_error_reason
from dagster_project.collect.contract import COLUMN_NAMES
from dagster_project.reference import load_reference
from tests.conftest import CARDIFF, PARKING, SWANSEA, TAX, row, submission

GOOD = submission(row(CARDIFF, "2026-01", TAX, 1000, 600, "yes", "no", 400, 600))
BAD = submission(row(CARDIFF, "2026-01", TAX, 1000, 1600, "yes", "no", 400, 600))


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def test_valid_file_exits_0_and_says_it_would_be_loaded(tmp_path, capsys):
    path = write(tmp_path, "jan.csv", GOOD)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}: valid, would be loaded (1 row ready to send)." in out
    assert f"{path}: dilys, byddai'n cael ei llwytho (yn barod i'w hanfon, rhesi: 1)." in out
    # No --body: the body the rows name, as registered, is where to send it; January is due
    # by 15 February.
    assert (
        f"What next: send the file to landing/{CARDIFF}/ or through your API endpoint, by "
        "2026-02-15 for 2026-01"
    ) in out
    assert "not loaded" not in out and "(s)" not in out


def test_two_rows_are_counted_in_the_plural(tmp_path, capsys):
    two = submission(
        row(CARDIFF, "2026-01", TAX, 1000, 600, "yes", "no", 400, 600),
        row(CARDIFF, "2026-01", PARKING, 10, 6, "yes", "no", 4, 6),
    )
    assert main(["validate", str(write(tmp_path, "jan.csv", two))]) == 0
    out = capsys.readouterr().out
    assert "(2 rows ready to send)" in out and "rhesi: 2)" in out


def test_a_file_with_warnings_only_would_be_loaded(tmp_path, capsys):
    # Channels given add up to more than the total (1000): a warning, the file loads.
    warned = submission(
        row(CARDIFF, "2026-01", TAX, 1000, 600, "yes", "no", 400, 600, transactions_phone=500)
    )
    path = write(tmp_path, "jan.csv", warned)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"Check of {path}: would be loaded, with warnings." in out
    assert f"Gwiriad o {path}: byddai'n cael ei llwytho, gyda rhybuddion." in out
    assert "The file would be loaded with 1 warning:" in out
    assert "not loaded" not in out


def test_file_with_errors_exits_1_and_explains_in_both_languages(tmp_path, capsys):
    path = write(tmp_path, "jan.csv", BAD)
    assert main(["validate", str(write(tmp_path, "ok.csv", GOOD)), str(path)]) == 1
    out = capsys.readouterr().out
    assert (
        f"{path}: row 2, column 'transactions_online': found '1600'; expected no more than "
        "transactions_total (1000) [online_not_above_total]"
    ) in out
    assert "rhes 2, colofn 'transactions_online': canfuwyd '1600'" in out
    assert "How to fix:" in out and "Sut i'w gywiro:" in out
    assert f"Check of {path}: would not be loaded." in out
    assert "1 error and 0 warnings found. Nothing from this file would be loaded" in out
    assert "Canfuwyd problemau (gwallau: 1, rhybuddion: 0)." in out
    assert f"    Service code: '{TAX}'" in out and f"    Cod gwasanaeth: '{TAX}'" in out


@pytest.mark.parametrize("data", [b"%PDF-1.7 not a table", b"PK\x03\x04broken zip"])
def test_file_that_cannot_be_read_exits_2(tmp_path, data, capsys):
    name = "return.pdf" if data.startswith(b"%PDF") else "return.xlsx"
    assert main(["validate", str(write(tmp_path, name, data))]) == 2
    assert "not_a_spreadsheet" in capsys.readouterr().out


def test_missing_file_or_folder_is_described_in_the_catalogues_words(tmp_path, capsys):
    missing, folder = tmp_path / "nowhere.csv", tmp_path / "a-folder"
    folder.mkdir()
    assert main(["validate", str(missing), str(folder)]) == 2
    out = capsys.readouterr().out
    assert f"{missing}: cannot be read: there is no file at this path." in out
    assert f"{missing}: ni ellir ei darllen: nid oes ffeil yn y llwybr hwn." in out
    assert f"{folder}: cannot be read: it is a folder, not a file." in out
    assert f"{folder}: ni ellir ei darllen: ffolder yw hwn, nid ffeil." in out
    # Never the operating system's own English message.
    assert "No such file or directory" not in out and "Is a directory" not in out


def test_an_os_error_without_words_of_its_own_is_named_by_its_code():
    error = OSError(errno.EIO, "Input/output error")
    assert os_error_reason(error, "en") == "the system could not read it (EIO)"
    assert os_error_reason(error, "cy") == "ni allai'r system ei darllen (EIO)"
    denied = PermissionError(errno.EACCES, "Permission denied")
    assert os_error_reason(denied, "cy") == "nid oes gennych ganiatâd i'w darllen"


def test_body_option_rejects_rows_about_another_body_once_for_all_rows(tmp_path, capsys):
    # Twelve of Cardiff's rows checked as Swansea's: one line naming rows 2-13, not twelve.
    services = load_reference().services_of(CARDIFF)[:12]
    rows = [row(CARDIFF, "2026-01", s, 10, 5, "yes", "no", 1, 1) for s in services]
    path = write(tmp_path, "jan.csv", submission(*rows))
    assert main(["validate", "--body", SWANSEA, str(path)]) == 1
    out = capsys.readouterr().out
    assert out.count("[wrong_body]") == 2  # once in English, once in Welsh
    assert (
        f"{path}: rows 2\u201313, column 'body_code': found '{CARDIFF}'; expected figures "
        f"about {SWANSEA} only, the body that sent them [wrong_body]"
    ) in out
    assert f"rhesi 2\u201313, colofn 'body_code': canfuwyd '{CARDIFF}'" in out
    assert "12 errors and 0 warnings found." in out
    assert f"landing/{SWANSEA}/" in out
    assert "Service codes: " + ", ".join(f"'{s}'" for s in services[:5]) + " and 7 more" in out


def test_an_unknown_body_option_is_refused_with_the_nearest_codes(tmp_path, capsys):
    path = write(tmp_path, "jan.csv", GOOD)
    assert main(["validate", "--body", "W0600015", str(path)]) == 2
    err = capsys.readouterr().err
    assert "--body W0600015: not a body code in the register (e.g. W06000015)." in err
    assert "--body W0600015: nid yw'n god corff yn y gofrestr (e.e. W06000015)." in err
    assert f"Did you mean {CARDIFF}" in err


def test_an_unknown_service_code_lists_the_nearest_valid_ones(tmp_path, capsys):
    typo = submission(row(CARDIFF, "2026-01", "la_parkng_permit", 10, 5, "yes", "no", 1, 1))
    assert main(["validate", str(write(tmp_path, "jan.csv", typo))]) == 1
    out = capsys.readouterr().out
    assert f"Did you mean '{PARKING}'" in out and f"Ai '{PARKING}'" in out


def test_output_into_a_closed_pipe_ends_quietly(tmp_path):
    # Enough output to fill a pipe many times over: 30 files, each with 200 different bad
    # values, so nothing groups. `head -1` reads one line and exits; the validator must stop
    # without a traceback, and keep its own exit code (1: files with errors).
    bad = submission(
        *[row(CARDIFF, "2026-01", TAX, 10, 5, "yes", "no", f"x{n}", 1) for n in range(200)]
    )
    paths = [str(write(tmp_path, f"f{n}.csv", bad)) for n in range(30)]
    script = Path(sys.executable).with_name("digital-progress")
    command = " ".join(shlex.quote(p) for p in [str(script), "validate", *paths])
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command} 2>{tmp_path / 'err.txt'} | head -1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.stdout.startswith(f"Check of {paths[0]}: would not be loaded.")
    assert done.stdout.count("\n") == 1
    assert (tmp_path / "err.txt").read_text() == ""  # no traceback, no "Exception ignored"
    assert done.returncode == 1


def test_template_and_a_filled_in_workbook(tmp_path):
    assert main(["template", "--out", str(tmp_path)]) == 0
    header = (tmp_path / "submission_template.csv").read_text().strip().split(",")
    assert header == list(COLUMN_NAMES)
    workbook = load_workbook(tmp_path / "submission_template.xlsx")
    assert workbook.sheetnames == [
        "Submission",
        "Example - Enghraifft",
        "Help - Cymorth",
        "Services - Gwasanaethau",
        "Bodies - Cyrff",
    ]
    dictionary = list(workbook["Help - Cymorth"].iter_rows(values_only=True))
    assert dictionary[1][:3] == ("body_code", "yes", "text") and len(dictionary) == 20
    # Fill it in as an analyst would: the month typed as a date, numbers as numbers.
    sheet = workbook["Submission"]
    values = {
        "body_code": CARDIFF,
        "period": date(2026, 1, 1),
        "service_code": TAX,
        "transactions_total": 12345,
        "transactions_online": 6000.0,
        "available_online": "Yes",
        "digital_by_default": "No",
        "letters_posted": 10,
        "digital_notifications": 0,
        "notes": "Ŵyl y Banc — â ô",
    }
    sheet.append([values.get(c) for c in COLUMN_NAMES])
    out = io.BytesIO()
    workbook.save(out)
    path = write(tmp_path, "filled.xlsx", out.getvalue())
    assert main(["validate", str(path)]) == 0


def test_a_body_template_offers_its_own_code_and_an_unknown_body_is_refused(tmp_path, capsys):
    assert main(["template", "--out", str(tmp_path), "--body", CARDIFF]) == 0
    workbook = load_workbook(tmp_path / "submission_template.xlsx")
    bodies = [row[0] for row in workbook["Bodies - Cyrff"].iter_rows(min_row=2, values_only=True)]
    assert bodies == [CARDIFF]
    assert main(["template", "--out", str(tmp_path / "x"), "--body", "W99999999"]) == 2
    assert "W99999999" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_installed_console_script_runs_without_dagster(tmp_path):
    script = Path(sys.executable).with_name("digital-progress")
    done = subprocess.run(
        [str(script), "validate", str(write(tmp_path, "jan.csv", BAD))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "online_not_above_total" in done.stdout
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, dagster_project.collect.cli; print('dagster' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.stdout.strip() == "False"


def test_the_assessment_template_filled_in_is_valid_and_sent_back_blank_loads_nothing(
    tmp_path, capsys
):
    assert main(["template", "--assessment", "--out", str(tmp_path), "--body", CARDIFF]) == 0
    lines = (tmp_path / "assessment_template.csv").read_text().splitlines()
    assert lines[0] == "body_code,service_code,assessed_on,standard,result"
    assert lines[1:] == [f"{CARDIFF},,,{n}," for n in range(1, 13)]
    workbook = load_workbook(tmp_path / "assessment_template.xlsx")
    assert workbook.sheetnames == [
        "Assessment - Asesiad",
        "Standards - Safonau",
        "Help - Cymorth",
        "Services - Gwasanaethau",
        "Bodies - Cyrff",
    ]
    standards = list(workbook["Standards - Safonau"].iter_rows(min_row=2, values_only=True))
    assert standards[1][:1] + standards[1][3:] == (
        2,
        "Promote the Welsh language",
        "Hyrwyddo'r Gymraeg",
    )
    # Sent back as it is: every row lacks its service, date and result, so nothing loads.
    assert main(["validate", str(tmp_path / "assessment_template.xlsx")]) == 1
    assert "a value: this column is required [required]" in capsys.readouterr().out
    # Filled in as an assessor would: the date typed as a date, results in plain words.
    sheet = workbook["Assessment - Asesiad"]
    for row_cells in sheet.iter_rows(min_row=2, max_row=13):
        row_cells[1].value = PARKING
        row_cells[2].value = date(2025, 11, 20)
        row_cells[4].value = "Partly met" if row_cells[3].value == 2 else "Met"
    out = io.BytesIO()
    workbook.save(out)
    path = write(tmp_path, "filled.xlsx", out.getvalue())
    assert main(["validate", str(path), "--body", CARDIFF]) == 0
    assert "(12 rows ready to send)" in capsys.readouterr().out
    again = tmp_path / "again"
    assert main(["template", "--assessment", "--out", str(again), "--body", CARDIFF]) == 0
    assert (again / "assessment_template.xlsx").read_bytes() == (
        tmp_path / "assessment_template.xlsx"
    ).read_bytes()
