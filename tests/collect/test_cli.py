"""`digital-progress`: the command public bodies run before sending a file."""

import io
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from dagster_project.collect.cli import main
from dagster_project.collect.contract import COLUMN_NAMES
from tests.conftest import CARDIFF, TAX, row, submission

GOOD = submission(row(CARDIFF, "2026-01", TAX, 1000, 600, "yes", "no", 400, 600))
BAD = submission(row(CARDIFF, "2026-01", TAX, 1000, 1600, "yes", "no", 400, 600))


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def test_valid_file_exits_0(tmp_path, capsys):
    assert main(["validate", str(write(tmp_path, "jan.csv", GOOD))]) == 0
    out = capsys.readouterr().out
    assert "valid, 1 row(s) ready to send" in out and "dilys, 1 rhes yn barod" in out


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


@pytest.mark.parametrize("data", [b"%PDF-1.7 not a table", b"PK\x03\x04broken zip"])
def test_file_that_cannot_be_read_exits_2(tmp_path, data, capsys):
    name = "return.pdf" if data.startswith(b"%PDF") else "return.xlsx"
    assert main(["validate", str(write(tmp_path, name, data))]) == 2
    assert "not_a_spreadsheet" in capsys.readouterr().out


def test_missing_file_exits_2(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nowhere.csv")]) == 2
    assert "cannot be read" in capsys.readouterr().out


def test_body_option_rejects_rows_about_another_body(tmp_path, capsys):
    path = write(tmp_path, "jan.csv", GOOD)
    assert main(["validate", "--body", "W06000011", str(path)]) == 1
    assert "wrong_body" in capsys.readouterr().out


def test_template_and_a_filled_in_workbook(tmp_path):
    assert main(["template", "--out", str(tmp_path)]) == 0
    header = (tmp_path / "submission_template.csv").read_text().strip().split(",")
    assert header == list(COLUMN_NAMES)
    workbook = load_workbook(tmp_path / "submission_template.xlsx")
    assert workbook.sheetnames == ["Submission", "Data dictionary", "Services", "Bodies"]
    dictionary = list(workbook["Data dictionary"].iter_rows(values_only=True))
    assert dictionary[1][:3] == ("body_code", "yes", "text") and len(dictionary) == 15
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
