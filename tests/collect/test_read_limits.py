"""Reading cannot lose rows, and no file can cost more than the declared limits: each case is
the smallest file that shows it, with the exact problem the body is told about."""

import io
import re
import zipfile
from datetime import date

from openpyxl import Workbook

from dagster_project.collect.contract import V1_COLUMN_NAMES
from dagster_project.collect.read import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_PROBLEMS_LISTED,
    MAX_ROWS,
    MAX_UNPACKED_BYTES,
    MAX_WORKBOOK_TEXT_CHARS,
    read_table,
)
from dagster_project.collect.rules import RULES
from dagster_project.collect.validate import (
    Problem,
    parse_records,
    parse_submission,
    validate_files,
)
from tests.conftest import CARDIFF, PARKING, TAX, row, submission

TODAY = date(2026, 3, 15)
GOOD = row(CARDIFF, "2026-02", TAX, 1000, 600, "yes", "no", 400, 600)
HEADER = submission().decode().strip()  # the contract's 14 columns; notes is the 14th, N


def where(problem: Problem) -> tuple:
    return (problem.row, problem.column, problem.value, problem.rule)


def the_problem(data: bytes, name: str = "f.csv") -> tuple:
    parsed = parse_submission(name, data)
    assert parsed.rows == [] and len(parsed.problems) == 1, parsed
    return where(parsed.problems[0])


# Parsing that cannot lose rows: CSV


def test_an_unclosed_quote_is_rejected_at_the_row_where_it_opened():
    # Four services; the first notes cell opens a quote that is never closed. The csv module
    # reads rows 3-5 into that one cell: the file was accepted as a single row.
    lines = [
        f"{CARDIFF},2026-02,{service},10,5,,,,,yes,no,1,1,"
        for service in (TAX, PARKING, "la_missed_bin_report", "la_planning_application")
    ]
    lines[0] += '"Backlog from March, see letter'
    data = "\n".join([HEADER, *lines]).encode() + b"\n"
    assert the_problem(data) == (2, "N", '"Backlog from March, see letter', "unclosed_quote")


def _v1_header_and_line() -> tuple[str, str]:
    """A v1 return's header and row: its last cell is notes, column N."""
    header, line = submission(GOOD).decode().splitlines()
    width = len(V1_COLUMN_NAMES)
    return ",".join(header.split(",")[:width]), ",".join(line.split(",")[:width])


def test_a_line_break_inside_a_quoted_cell_is_rejected_too():
    # Decided: a return has no use for line breaks in a cell, and a quote closed rows later is
    # how rows go missing, so a cell may not run past the end of its line.
    header, line = _v1_header_and_line()
    data = f'{header}\n{line}"first line\nsecond line"\n'.encode()
    assert the_problem(data) == (2, "N", '"first line', "unclosed_quote")


def test_a_quote_inside_a_cell_or_a_quoted_cell_on_its_own_line_is_just_text():
    parsed = parse_submission("f.csv", submission({**GOOD, "notes": 'A 5" form, "new" route'}))
    assert (parsed.problems, parsed.rows[0]["notes"]) == ([], 'A 5" form, "new" route')
    header, line = _v1_header_and_line()
    parsed = parse_submission("f.csv", f'{header}\n{line}5" form\n'.encode())
    assert (parsed.problems, parsed.rows[0]["notes"]) == ([], '5" form')


def test_a_quote_left_open_before_a_long_tail_stops_at_the_csv_cell_limit():
    # The csv module gives up at 131,072 characters in a cell: still the quote's fault.
    header, line = _v1_header_and_line()
    tail = "\n".join(line for _ in range(2_000))  # about 140,000 characters
    data = f'{header}\n{line}"oops\n{tail}\n'.encode()
    assert the_problem(data) == (2, "N", '"oops', "unclosed_quote")


def test_unclosed_quote_is_explained_in_english_and_welsh():
    rule = RULES["unclosed_quote"]
    assert rule.expected("en").startswith("every quoted cell closed on its own line")
    assert rule.expected("cy").startswith("pob cell â dyfynodau wedi'i chau ar ei llinell ei hun")
    assert rule.unreadable and rule.severity == "error"


# Parsing that cannot lose rows: XLSX


def _workbook(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Submission"
    for cells in rows:
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _with_dimension(data: bytes, ref: str) -> bytes:
    """The same workbook with the sheet's <dimension> tag rewritten inside the zip."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            part = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                part, replaced = re.subn(
                    rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), part
                )
                assert replaced == 1
            target.writestr(info, part)
    return out.getvalue()


FOUR_SERVICES = [
    list(submission().decode().strip().split(",")),
    *[
        [CARDIFF, "2026-02", service, 10, 5, None, None, None, None, "yes", "no", 1, 1]
        for service in (TAX, PARKING, "la_missed_bin_report", "la_planning_application")
    ],
]


def test_a_sheet_whose_dimension_understates_it_is_read_in_full():
    data = _with_dimension(_workbook(FOUR_SERVICES), "A1:J3")  # the sheet is A1:M5
    parsed = parse_submission("f.xlsx", data)
    assert parsed.problems == []
    assert [(r["_row"], r["service_code"]) for r in parsed.rows] == [
        ("2", TAX),
        ("3", PARKING),
        ("4", "la_missed_bin_report"),
        ("5", "la_planning_application"),
    ]
    assert parsed.rows[0]["digital_notifications"] == "1"  # column M, beyond the stated J


def test_a_sheet_whose_dimension_overstates_it_reads_only_what_is_there():
    data = _with_dimension(_workbook(FOUR_SERVICES), "A1:Z200")
    assert [n for n, _ in read_table(data).rows] == [1, 2, 3, 4, 5]


def test_a_password_protected_workbook_has_its_own_rule():
    # Excel encrypts a workbook with a password into an OLE file with an EncryptedPackage stream.
    data = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600 + "EncryptedPackage".encode("utf-16-le")
    )
    [problem] = parse_submission("f.xlsx", data).problems
    assert where(problem) == (0, "", "a workbook protected by a password", "password_protected")
    assert (problem.expected("en"), problem.expected("cy")) == (
        "a workbook without a password",
        "llyfr gwaith heb gyfrinair",
    )
    assert problem.fix("en").startswith("Remove the password: File > Info > Protect Workbook")
    assert problem.fix("cy").startswith("Tynnwch y cyfrinair")
    old_xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600 + "Workbook".encode("utf-16-le")
    [problem] = parse_submission("f.xlsx", old_xls).problems
    assert where(problem) == (0, "", "an old-style .xls workbook", "not_a_spreadsheet")


# Bounded cost: the declared limits, checked while streaming


def junk_csv(rows: int) -> bytes:
    """The hostile file of issue 9: a header, then a two-byte junk line per row."""
    return (HEADER + "\n" + "x\n" * rows).encode()


def test_a_file_of_300000_junk_rows_is_rejected_at_the_row_limit():
    data = junk_csv(300_000)
    assert 600_000 <= len(data) < 700_000
    assert the_problem(data) == (MAX_ROWS + 1, "", f"more than {MAX_ROWS:,} rows", "too_many_rows")
    problems = validate_files([parse_submission("f.csv", data)], _reference(), TODAY)["f.csv"]
    assert [p.rule for p in problems] == ["too_many_rows"]
    assert problems[0].expected("en") == (
        "at most 10,000 rows in one file: a monthly return has one row per service"
    )


def test_a_file_at_the_row_limit_is_read():
    assert len(read_table(junk_csv(MAX_ROWS - 1)).rows) == MAX_ROWS


OFFICE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
CONTENT_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{OFFICE}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{OFFICE}.worksheet+xml"/>'
    "</Types>"
)


def _sheet_xlsx(sheet_data: str, styles: str | None = None) -> bytes:
    """A minimal workbook around one sheet's <sheetData>, written directly (fast for many rows)."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{package}"><Relationship Id="rId1" '
            f'Type="{rels}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{main}" xmlns:r="{rels}"><sheets>'
            '<sheet name="Submission" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{package}"><Relationship Id="rId1" '
            f'Type="{rels}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        z.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{main}"><dimension ref="A1"/><sheetData>{sheet_data}'
            "</sheetData></worksheet>",
        )
        if styles is not None:
            z.writestr("xl/styles.xml", styles)
    return out.getvalue()


def test_a_workbook_past_the_row_limit_is_rejected_while_streaming():
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(1, MAX_ROWS + 2))
    data = _sheet_xlsx(rows)
    assert the_problem(data, "f.xlsx") == (
        MAX_ROWS + 1,
        "",
        f"more than {MAX_ROWS:,} rows",
        "too_many_rows",
    )


def test_a_formatted_row_far_down_a_sheet_is_not_a_row():
    # Excel writes a <row> for a row whose height was changed, even with no cell in it.
    data = _sheet_xlsx(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row>'
        '<row r="1048576" ht="30" customHeight="1"/>'
    )
    assert read_table(data).rows == [(1, ["a"])]


def test_a_workbook_that_unpacks_past_the_limit_is_not_opened():
    # A zip bomb: kilobytes on disk, 64 MB of empty cells once inflated.
    data = _sheet_xlsx("<row>" + "<c/>" * (MAX_UNPACKED_BYTES // 4) + "</row>")
    assert len(data) < MAX_FILE_BYTES // 100
    [problem] = parse_submission("f.xlsx", data).problems
    unpacked = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    assert unpacked > MAX_UNPACKED_BYTES
    assert (problem.rule, problem.value) == ("workbook_too_large", f"{unpacked:,} bytes in all")
    assert problem.expected("en") == (
        "a workbook that unpacks to at most 67,108,864 bytes, no part of it but the sheet "
        "to more than 4,194,304, and at most 4,000,000 characters of text in its cells"
    )


def test_a_workbook_part_parsed_whole_is_bounded_too():
    # 300,000 cell styles (Excel allows 64,000): openpyxl would build every one in memory.
    styles = (
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + '<cellXfs count="300000">'
        + '<xf numFmtId="14"/>' * 300_000
        + "</cellXfs></styleSheet>"
    )
    data = _sheet_xlsx('<row r="1"><c r="A1" s="1"><v>45000</v></c></row>', styles)
    [problem] = parse_submission("f.xlsx", data).problems
    # 300,000 styles of 19 bytes, and 125 bytes around them
    assert (problem.rule, problem.value) == ("workbook_too_large", "xl/styles.xml: 5,700,125 bytes")


def test_a_row_of_more_cells_than_excel_allows_is_refused_as_it_streams():
    data = _sheet_xlsx("<row>" + "<c/>" * 1_000_000 + "</row>")
    assert the_problem(data, "f.xlsx") == (1, "", "more than 16,384 cells", "too_many_columns")


def test_too_many_columns():
    header, line = submission(GOOD).decode().splitlines()
    cells = ",".join(["x"] * (MAX_COLUMNS + 1))
    assert the_problem(f"{header}\n{cells}\n".encode()) == (2, "BM", "65 cells", "too_many_columns")
    # Trailing empty cells, as spreadsheet programs write them, hold nothing and do not count.
    padded = parse_submission("f.csv", f"{header}\n{line}{',' * 100}\n".encode())
    assert (padded.problems, len(padded.rows)) == ([], 1)
    data = _sheet_xlsx('<row r="1"><c r="BM1"><v>1</v></c></row>')
    assert the_problem(data, "f.xlsx") == (1, "BM", "a value in column BM", "too_many_columns")


def test_a_line_of_a_million_commas_is_refused_before_it_is_split():
    assert the_problem(b"a" + b"," * 1_000_000 + b"\n") == (
        1,
        "BM",
        "1,000,001 cells",
        "too_many_columns",
    )


def test_cell_length_limit():
    at_limit = parse_submission("f.csv", submission({**GOOD, "notes": "n" * MAX_CELL_CHARS}))
    assert at_limit.problems == []
    data = submission({**GOOD, "notes": "n" * (MAX_CELL_CHARS + 1)})
    assert the_problem(data) == (2, "N", "2,001 characters", "cell_too_long")
    payload = parse_records("p.json", b"", [{**GOOD, "notes": "n" * (MAX_CELL_CHARS + 1)}])
    assert [where(p) for p in payload.problems] == [
        (1, "notes", "2,001 characters", "cell_too_long")
    ]


def test_a_payload_past_the_row_limit_is_rejected_without_its_rows():
    parsed = parse_records("p.json", b"", [GOOD] * (MAX_ROWS + 1))
    assert (parsed.rows, [where(p) for p in parsed.problems]) == (
        [],
        [(MAX_ROWS + 1, "", "10,001 rows", "too_many_rows")],
    )


def test_every_limit_rule_names_its_limit_in_english_and_welsh():
    for code, limit in (
        ("too_many_rows", f"{MAX_ROWS:,}"),
        ("too_many_columns", f"{MAX_COLUMNS}"),
        ("cell_too_long", f"{MAX_CELL_CHARS:,}"),
        ("more_errors", f"{MAX_PROBLEMS_LISTED}"),
        ("more_warnings", f"{MAX_PROBLEMS_LISTED}"),
    ):
        rule = RULES[code]
        assert limit in rule.expected("en") and limit in rule.expected("cy"), code
        assert rule.fix("en") and rule.fix("cy"), code


def _reference():
    from dagster_project.reference import load_reference

    return load_reference()


def test_a_workbook_whose_cells_hold_too_much_text_in_all_is_refused_as_it_streams():
    """Found by a hostile trial: shared strings let a 38 KB workbook put one 2,000-character
    text in 140,000 cells (821 MB to check). The text a workbook's cells hold in all is bounded
    as it streams; inline strings stand in for the shared ones here."""
    text = "x" * (MAX_CELL_CHARS - 1)
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>{text}</t></is></c></row>'
        for n in range(1, 2_101)
    )
    row, column, value, rule = the_problem(_sheet_xlsx(rows), "f.xlsx")
    assert (row, value, rule) == (
        MAX_WORKBOOK_TEXT_CHARS // len(text) + 1,
        f"more than {MAX_WORKBOOK_TEXT_CHARS:,} characters of text",
        "workbook_too_large",
    )


def test_a_utf8_file_with_one_stray_byte_is_refused_not_garbled():
    """Found by a hostile trial: one stray Windows-1252 byte made the whole file read as
    Windows-1252, turning 'ŵ â ŷ' into 'Åµ Ã¢ Å·' without a word."""
    text = HEADER + "\n" + ",".join(str(GOOD[c]) for c in GOOD) + ",Gwasanaeth ŵ â ŷ"
    data = text.encode("utf-8") + b" caf\xe9\n"
    problem = the_problem(data)
    assert problem[2:] == (
        f"byte 0xe9 at offset {len(data) - 2} in a file otherwise written in UTF-8",
        "encoding",
    )


def test_a_windows_1252_file_still_reads():
    data = (HEADER + "\n" + ",".join(str(GOOD[c]) for c in GOOD) + ",Gwasanaeth caf\xe9\n").encode(
        "cp1252"
    )
    assert read_table(data).rows[1][1][-1] == "Gwasanaeth café"
