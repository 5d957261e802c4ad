"""The submission data contract (v1): one row per body x month x service. See SPEC.md."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "text", "period", "count" (whole number >= 0) or "flag" (yes/no)
    required: bool
    description: str
    description_cy: str


COLUMNS: tuple[Column, ...] = (
    Column(
        "body_code",
        "text",
        True,
        "Code of the reporting body, as in the register",
        "Cod y corff sy'n adrodd, fel yn y gofrestr",
    ),
    Column(
        "period", "period", True, "Month reported, YYYY-MM", "Y mis yr adroddir amdano, BBBB-MM"
    ),
    Column(
        "service_code",
        "text",
        True,
        "Service, as in the catalogue for the body's sector",
        "Y gwasanaeth, fel yng nghatalog sector y corff",
    ),
    Column(
        "transactions_total",
        "count",
        True,
        "Completed transactions, every channel",
        "Trafodion a gwblhawyd, pob sianel",
    ),
    Column(
        "transactions_online",
        "count",
        True,
        "Completed end to end online, self-service",
        "Wedi'u cwblhau'n gyfan gwbl ar-lein, hunanwasanaeth",
    ),
    Column(
        "transactions_phone", "count", False, "Completed by phone", "Wedi'u cwblhau dros y ffôn"
    ),
    Column(
        "transactions_face_to_face",
        "count",
        False,
        "Completed face to face",
        "Wedi'u cwblhau wyneb yn wyneb",
    ),
    Column("transactions_paper", "count", False, "Completed on paper", "Wedi'u cwblhau ar bapur"),
    Column(
        "transactions_other",
        "count",
        False,
        "Completed by any other channel",
        "Wedi'u cwblhau drwy unrhyw sianel arall",
    ),
    Column(
        "available_online",
        "flag",
        True,
        "yes if the service can be completed online",
        "yes os gellir cwblhau'r gwasanaeth ar-lein",
    ),
    Column(
        "digital_by_default",
        "flag",
        True,
        "yes if online is the default route",
        "yes os mai ar-lein yw'r llwybr diofyn",
    ),
    Column(
        "letters_posted",
        "count",
        True,
        "Paper letters or notices posted",
        "Llythyrau neu hysbysiadau papur a bostiwyd",
    ),
    Column(
        "digital_notifications",
        "count",
        True,
        "SMS, email or app messages sent",
        "Negeseuon SMS, e-bost neu ap a anfonwyd",
    ),
    Column(
        "notes",
        "text",
        False,
        "Free text; never treated as markup or formula",
        "Testun rhydd; nid yw byth yn cael ei drin fel marcio na fformiwla",
    ),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
COUNT_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "count")
FLAG_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "flag")
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)
CHANNEL_COLUMNS: tuple[str, ...] = (
    "transactions_phone",
    "transactions_face_to_face",
    "transactions_paper",
    "transactions_other",
)
# Cells meaning "not given" in optional columns; public bodies write these for blanks.
NOT_GIVEN = frozenset({"", "n/a", "na"})
