"""Every rule a submission is checked against, with what the body sees when it breaks one: what
was expected and how to fix it, in English and Welsh, and whether it rejects the file (error) or
loads it with a flag (warning). One catalogue for the pipeline, the CLI and the reports, and
beside it `Problem`: one breach of a rule, located for the body to fix."""

from __future__ import annotations

from dataclasses import dataclass

from dagster_project.collect.read import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_PROBLEMS_LISTED,
    MAX_ROWS,
    MAX_UNPACKED_BYTES,
    MAX_WORKBOOK_PART_BYTES,
    MAX_WORKBOOK_TEXT_CHARS,
)

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    expected_en: str  # may hold {detail} and {value} (what was found)
    expected_cy: str
    fix_en: str
    fix_cy: str
    unreadable: bool = False  # the file could not be read at all


_TEMPLATE_EN = "Start from the template: `digital-progress template`."
_TEMPLATE_CY = "Dechreuwch o'r templed: `digital-progress template`."

RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        # The file as a whole
        Rule(
            "file_too_large",
            ERROR,
            "a file of at most {detail}",
            "ffeil o {detail} ar y mwyaf",
            "Send one body's monthly return per file.",
            "Anfonwch ffurflen fisol un corff ym mhob ffeil.",
            unreadable=True,
        ),
        Rule(
            "empty_file",
            ERROR,
            "a header row and at least one data row",
            "rhes pennawd ac o leiaf un rhes ddata",
            _TEMPLATE_EN,
            _TEMPLATE_CY,
            unreadable=True,
        ),
        Rule(
            "encoding",
            ERROR,
            "a CSV file saved as UTF-8 or Windows-1252",
            "ffeil CSV wedi'i chadw fel UTF-8 neu Windows-1252",
            "In your spreadsheet program choose Save As, then 'CSV UTF-8'.",
            "Yn eich rhaglen daenlen dewiswch Cadw Fel, yna 'CSV UTF-8'.",
            unreadable=True,
        ),
        Rule(
            "not_a_regular_file",
            ERROR,
            "an ordinary file placed in the folder itself, not a link, shortcut, pipe or device",
            "ffeil gyffredin wedi'i gosod yn y ffolder ei hun, nid dolen, llwybr byr, pibell na "
            "dyfais",
            "Copy the file itself into your folder, not a link to it.",
            "Copïwch y ffeil ei hun i'ch ffolder, nid dolen iddi.",
            unreadable=True,
        ),
        Rule(
            "internal_error",
            ERROR,
            "a file the collector can process; it failed while {detail}, and the data team has "
            "been told",
            "ffeil y gall y casglwr ei phrosesu; methodd ({detail}), a rhoddwyd gwybod i'r tîm "
            "data",
            "Nothing to fix on your side yet: the data team will ask you to send it again if "
            "needed.",
            "Dim i'w gywiro gennych chi eto: bydd y tîm data yn gofyn i chi ei hanfon eto os oes "
            "angen.",
            unreadable=True,
        ),
        Rule(
            "not_a_spreadsheet",
            ERROR,
            "a CSV file or an Excel workbook (.xlsx)",
            "ffeil CSV neu lyfr gwaith Excel (.xlsx)",
            "Save the file again from your spreadsheet program as .xlsx or CSV.",
            "Cadwch y ffeil eto o'ch rhaglen daenlen fel .xlsx neu CSV.",
            unreadable=True,
        ),
        Rule(
            "password_protected",
            ERROR,
            "a workbook without a password",
            "llyfr gwaith heb gyfrinair",
            "Remove the password: File > Info > Protect Workbook > Encrypt with Password, clear "
            "the password, save, and send the file again.",
            "Tynnwch y cyfrinair: Ffeil > Gwybodaeth > Diogelu Llyfr Gwaith > Amgryptio gyda "
            "Chyfrinair, cliriwch y cyfrinair, cadwch, ac anfonwch y ffeil eto.",
            unreadable=True,
        ),
        Rule(
            "unclosed_quote",
            ERROR,
            "every quoted cell closed on its own line: a cell cannot hold a line break, so the "
            "rows after an open quote would be lost in it",
            "pob cell â dyfynodau wedi'i chau ar ei llinell ei hun: ni all cell ddal toriad "
            "llinell, felly byddai'r rhesi ar ôl dyfynnod agored yn mynd ar goll ynddi",
            'Close the quote (") or remove it, and take any line breaks out of the cell; then '
            "save and send the whole file again.",
            "Caewch y dyfynnod (\") neu ei dynnu, a thynnwch unrhyw doriadau llinell o'r gell; "
            "yna cadwch ac anfonwch y ffeil gyfan eto.",
            unreadable=True,
        ),
        Rule(
            "workbook_too_large",
            ERROR,
            f"a workbook that unpacks to at most {MAX_UNPACKED_BYTES:,} bytes, no part of it "
            f"but the sheet to more than {MAX_WORKBOOK_PART_BYTES:,}, and at most "
            f"{MAX_WORKBOOK_TEXT_CHARS:,} characters of text in its cells",
            f"llyfr gwaith sy'n dadbacio i {MAX_UNPACKED_BYTES:,} beit ar y mwyaf, dim rhan "
            f"ohono ond y daflen i fwy na {MAX_WORKBOOK_PART_BYTES:,}, a "
            f"{MAX_WORKBOOK_TEXT_CHARS:,} o nodau testun ar y mwyaf yn ei gelloedd",
            "Copy the return alone into a new workbook (no other sheets or pictures) and send "
            "that, or send it as CSV.",
            "Copïwch y ffurflen ar ei phen ei hun i lyfr gwaith newydd (heb daflenni na lluniau "
            "eraill) ac anfonwch hwnnw, neu anfonwch hi fel CSV.",
            unreadable=True,
        ),
        Rule(
            "too_many_rows",
            ERROR,
            f"at most {MAX_ROWS:,} rows in one file: a monthly return has one row per service",
            f"{MAX_ROWS:,} rhes ar y mwyaf mewn un ffeil: mae gan ffurflen fisol un rhes ar "
            "gyfer pob gwasanaeth",
            "Send one body's monthly return per file, without the rows of other months or bodies.",
            "Anfonwch ffurflen fisol un corff ym mhob ffeil, heb resi misoedd neu gyrff eraill.",
            unreadable=True,
        ),
        Rule(
            "too_many_columns",
            ERROR,
            f"at most {MAX_COLUMNS} columns: the template has 14",
            f"{MAX_COLUMNS} colofn ar y mwyaf: mae gan y templed 14",
            "Delete the columns to the right of the template's columns. " + _TEMPLATE_EN,
            "Dilëwch y colofnau i'r dde o golofnau'r templed. " + _TEMPLATE_CY,
            unreadable=True,
        ),
        Rule(
            "cell_too_long",
            ERROR,
            f"at most {MAX_CELL_CHARS:,} characters in a cell",
            f"{MAX_CELL_CHARS:,} nod ar y mwyaf mewn cell",
            "Shorten the cell; keep long notes out of the return.",
            "Byrhewch y gell; cadwch nodiadau hir allan o'r ffurflen.",
            unreadable=True,
        ),
        Rule(
            "malformed_json",
            ERROR,
            'a JSON object {{"body_code": ..., "submissions": [...]}}',
            'gwrthrych JSON {{"body_code": ..., "submissions": [...]}}',
            "Check the endpoint returns the documented JSON.",
            "Gwiriwch fod y pwynt terfyn yn dychwelyd y JSON a ddogfennwyd.",
            unreadable=True,
        ),
        Rule(
            "unknown_sender",
            ERROR,
            "a file inside a folder named after a registered body code, e.g. landing/W06000015/",
            "ffeil mewn ffolder a enwir ar ôl cod corff cofrestredig, e.e. landing/W06000015/",
            "Put the file in your own organisation's folder.",
            "Rhowch y ffeil yn ffolder eich sefydliad eich hun.",
        ),
        # The header
        Rule(
            "missing_column",
            ERROR,
            "a column named '{detail}'",
            "colofn o'r enw '{detail}'",
            "Use the template's header row.",
            "Defnyddiwch res pennawd y templed.",
        ),
        Rule(
            "unknown_column",
            ERROR,
            "only the columns of the data contract",
            "colofnau'r contract data yn unig",
            "Remove the column or rename it to one of the template's columns.",
            "Tynnwch y golofn neu ei hailenwi i un o golofnau'r templed.",
        ),
        Rule(
            "duplicate_column",
            ERROR,
            "each column once",
            "pob colofn unwaith",
            "Remove the repeated column.",
            "Tynnwch y golofn ddyblyg.",
        ),
        Rule(
            "no_rows",
            ERROR,
            "at least one data row under the header",
            "o leiaf un rhes ddata o dan y pennawd",
            "Add a row for each service and month.",
            "Ychwanegwch res ar gyfer pob gwasanaeth a mis.",
        ),
        # A row
        Rule(
            "row_length",
            ERROR,
            "{detail} cells, one per header column",
            "{detail} cell, un ar gyfer pob colofn pennawd",
            "Check for a stray comma or a missing cell.",
            "Chwiliwch am goma crwydr neu gell sydd ar goll.",
        ),
        Rule(
            "required",
            ERROR,
            "a value: this column is required",
            "gwerth: mae'r golofn hon yn orfodol",
            "Fill in the cell.",
            "Llenwch y gell.",
        ),
        Rule(
            "whole_number",
            ERROR,
            "a whole number of 0 or more, digits only (e.g. 1250)",
            "rhif cyfan o 0 neu fwy, digidau yn unig (e.e. 1250)",
            "Remove decimals, minus signs and words.",
            "Tynnwch ddegolion, arwyddion minws a geiriau.",
        ),
        Rule(
            "too_large",
            ERROR,
            "a count below 10^15",
            "cyfrif llai na 10^15",
            "Check the figure for extra digits.",
            "Gwiriwch y ffigur am ddigidau ychwanegol.",
        ),
        Rule(
            "yes_no",
            ERROR,
            "yes or no",
            "'yes' neu 'no'",
            "Write yes or no.",
            "Ysgrifennwch yes neu no.",
        ),
        Rule(
            "period_format",
            ERROR,
            "a month written YYYY-MM, e.g. 2025-04",
            "mis ar y ffurf BBBB-MM, e.e. 2025-04",
            "Write the year, a hyphen and the month in two digits.",
            "Ysgrifennwch y flwyddyn, cysylltnod a'r mis mewn dau ddigid.",
        ),
        Rule(
            "period_future",
            ERROR,
            "a month no later than {detail}",
            "mis heb fod yn hwyrach na {detail}",
            "Check the year and month.",
            "Gwiriwch y flwyddyn a'r mis.",
        ),
        Rule(
            "before_onboarding",
            ERROR,
            "a month from {detail}, when this body started reporting",
            "mis o {detail} ymlaen, pan ddechreuodd y corff hwn adrodd",
            "Report only months from your onboarding onwards.",
            "Adroddwch am fisoedd o'ch dyddiad ymuno ymlaen yn unig.",
        ),
        Rule(
            "known_body",
            ERROR,
            "a body code from the register of public bodies (e.g. W06000015)",
            "cod corff o'r gofrestr o gyrff cyhoeddus (e.e. W06000015)",
            "Use your organisation's code as given in the template's data dictionary.",
            "Defnyddiwch god eich sefydliad fel y'i rhoddir yng ngeiriadur data'r templed.",
        ),
        Rule(
            "wrong_body",
            ERROR,
            "figures about {detail} only, the body that sent them",
            "ffigurau am {detail} yn unig, y corff a'u hanfonodd",
            "A body may submit only its own figures.",
            "Dim ond ei ffigurau ei hun y caiff corff eu cyflwyno.",
        ),
        Rule(
            "one_body_per_file",
            ERROR,
            "the same body_code on every row (the first row has {detail})",
            "yr un body_code ar bob rhes (mae gan y rhes gyntaf {detail})",
            "Send one file per organisation.",
            "Anfonwch un ffeil ar gyfer pob sefydliad.",
        ),
        Rule(
            "known_service",
            ERROR,
            "a service code from the catalogue for the {detail} sector",
            "cod gwasanaeth o'r catalog ar gyfer y sector {detail}",
            "Use the service codes in the template's data dictionary.",
            "Defnyddiwch y codau gwasanaeth yng ngeiriadur data'r templed.",
        ),
        Rule(
            "online_not_above_total",
            ERROR,
            "no more than transactions_total ({detail})",
            "dim mwy na transactions_total ({detail})",
            "Online transactions are part of the total: check both figures.",
            "Mae trafodion ar-lein yn rhan o'r cyfanswm: gwiriwch y ddau ffigur.",
        ),
        Rule(
            "channels_add_up",
            ERROR,
            "online + phone + face to face + paper + other = total; they add up to {detail}",
            "ar-lein + ffôn + wyneb yn wyneb + papur + arall = cyfanswm; maen nhw'n dod i {detail}",
            "Correct the channel figures or the total.",
            "Cywirwch ffigurau'r sianeli neu'r cyfanswm.",
        ),
        Rule(
            "duplicate_row",
            ERROR,
            "one row per body, month and service; row {detail} has the same",
            "un rhes ar gyfer pob corff, mis a gwasanaeth; mae gan res {detail} yr un peth",
            "Remove or merge the repeated row.",
            "Tynnwch neu cyfunwch y rhes ddyblyg.",
        ),
        # Warnings: the file loads, flagged
        Rule(
            "channels_exceed_total",
            WARNING,
            "channel figures that together are no more than the total; online and the channels "
            "given add up to {detail}",
            "ffigurau sianel sydd gyda'i gilydd ddim mwy na'r cyfanswm; mae ar-lein a'r sianeli a "
            "roddwyd yn dod i {detail}",
            "Check the channel figures; resubmit if they are wrong.",
            "Gwiriwch ffigurau'r sianeli; ailgyflwynwch os ydynt yn anghywir.",
        ),
        Rule(
            "volume_outlier",
            WARNING,
            "a volume within a tenth and ten times this service's usual level "
            "(median of its last 12 months: {detail})",
            "nifer rhwng degfed a deg gwaith lefel arferol y gwasanaeth hwn "
            "(canolrif ei 12 mis diwethaf: {detail})",
            "If the figure is right, nothing needs doing; if not, resubmit the month.",
            "Os yw'r ffigur yn gywir, does dim angen gwneud dim; os nad yw, ailgyflwynwch y mis.",
        ),
        # The list of problems itself, capped per file
        Rule(
            "more_errors",
            ERROR,
            f"at most {MAX_PROBLEMS_LISTED} problems listed per file, and {{value}} more errors "
            "of these rules: {detail}",
            f"{MAX_PROBLEMS_LISTED} problem ar y mwyaf wedi'u rhestru ym mhob ffeil, a {{value}} "
            "gwall arall o'r rheolau hyn: {detail}",
            "Correct the errors listed, which are usually the same mistake on many rows, then "
            "check the whole file again: `digital-progress validate`.",
            "Cywirwch y gwallau a restrir, sydd fel arfer yr un camgymeriad ar lawer o resi, "
            "yna gwiriwch y ffeil gyfan eto: `digital-progress validate`.",
        ),
        Rule(
            "more_warnings",
            WARNING,
            f"at most {MAX_PROBLEMS_LISTED} problems listed per file, and {{value}} more "
            "warnings of these rules: {detail}",
            f"{MAX_PROBLEMS_LISTED} problem ar y mwyaf wedi'u rhestru ym mhob ffeil, a {{value}} "
            "rhybudd arall o'r rheolau hyn: {detail}",
            "Check the figures of every row these rules name; resubmit if one is wrong.",
            "Gwiriwch ffigurau pob rhes y mae'r rheolau hyn yn eu henwi; ailgyflwynwch os oes "
            "un yn anghywir.",
        ),
        Rule(
            "totals_row_ignored",
            WARNING,
            "data rows only: the totals row was left out",
            "rhesi data yn unig: gadawyd y rhes gyfansymiau allan",
            "Nothing needs doing.",
            "Does dim angen gwneud dim.",
        ),
    )
}


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a submission, located well enough for the body to fix it."""

    file: str
    row: int  # the row number the body sees (header = 1); 0 for the whole file
    column: str
    value: str
    rule: str
    detail: str = ""  # fills the rule's {detail}, e.g. the total online was compared with

    @property
    def severity(self) -> str:
        return RULES[self.rule].severity

    @property
    def expected_en(self) -> str:
        return RULES[self.rule].expected_en.format(detail=self.detail, value=self.value)

    @property
    def expected_cy(self) -> str:
        return RULES[self.rule].expected_cy.format(detail=self.detail, value=self.value)

    @property
    def fix_en(self) -> str:
        return RULES[self.rule].fix_en

    @property
    def fix_cy(self) -> str:
        return RULES[self.rule].fix_cy

    def describe(self, language: str = "en") -> str:
        welsh = language == "cy"
        if not self.row:
            where = "y ffeil gyfan" if welsh else "whole file"
        else:
            where = f"rhes {self.row}" if welsh else f"row {self.row}"
            if self.column:
                where += f", colofn '{self.column}'" if welsh else f", column '{self.column}'"
        if welsh:
            found = f"canfuwyd {self.value!r}" if self.value else "ni chanfuwyd dim"
            return f"{self.file}: {where}: {found}; disgwyliwyd {self.expected_cy} [{self.rule}]"
        found = f"found {self.value!r}" if self.value else "found nothing"
        return f"{self.file}: {where}: {found}; expected {self.expected_en} [{self.rule}]"

    def as_dict(self) -> dict[str, object]:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "rule": self.rule,
            "severity": self.severity,
            "expected_en": self.expected_en,
            "expected_cy": self.expected_cy,
            "fix_en": self.fix_en,
            "fix_cy": self.fix_cy,
        }
