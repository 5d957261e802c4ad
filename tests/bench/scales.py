"""Named scales for the benchmark: a register of bodies and services as large as asked, made from
the real Welsh register by repeating its bodies under new codes (each keeps its sector, population
and services), and, where a scale asks for more services than a sector has, variants of the
sector's services. The demo generator then writes returns for every body of that register."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Scale:
    name: str
    bodies: int | None  # None: the real register
    services: int | None  # services per body; None: each body's real services
    months: int
    end: str = "2026-09"

    @property
    def start(self) -> str:
        """The first month the scale has returns for (YYYY-MM)."""
        year, month = (int(p) for p in self.end.split("-"))
        first = year * 12 + month - 1 - (self.months - 1)
        return f"{first // 12:04d}-{first % 12 + 1:02d}"


SCALES = {
    scale.name: scale
    for scale in (
        Scale("wales", None, None, 24),
        Scale("2k-bodies", 2000, None, 24),
        Scale("uk", 2000, 40, 120),
    )
}


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def enlarge_register(seeds: Path, scale: Scale) -> None:
    """Rewrite bodies.csv, services.csv and body_services.csv in `seeds` (a copy) for `scale`."""
    if scale.bodies is None and scale.services is None:
        return
    body_columns, bodies = _read(seeds / "bodies.csv")
    service_columns, services = _read(seeds / "services.csv")
    link_columns, links = _read(seeds / "body_services.csv")
    delivered: dict[str, list[dict[str, str]]] = {}
    for link in links:
        delivered.setdefault(link["body_code"], []).append(link)

    if scale.services is not None:
        # Variants of each body's services until it has `scale.services` of them.
        by_code = {s["service_code"]: s for s in services}
        extra: dict[str, dict[str, str]] = {}
        for code, own in delivered.items():
            grown = list(own)
            variant = 1
            while len(grown) < scale.services:
                for link in own:
                    if len(grown) >= scale.services:
                        break
                    service = by_code[link["service_code"]]
                    new_code = f"{service['service_code']}_v{variant}"
                    extra.setdefault(new_code, {**service, "service_code": new_code})
                    grown.append({**link, "service_code": new_code})
                variant += 1
            delivered[code] = grown
        services = sorted([*services, *extra.values()], key=lambda s: s["service_code"])

    count = scale.bodies or len(bodies)
    new_bodies, new_links = [], []
    for k in range(count):
        template = bodies[k % len(bodies)]
        code = template["body_code"] if k < len(bodies) else f"{template['body_code']}X{k:04d}"
        suffix = "" if k < len(bodies) else f" ({k})"
        new_bodies.append(
            {
                **template,
                "body_code": code,
                "name_en": template["name_en"] + suffix,
                "name_cy": template["name_cy"] + suffix,
                # on the platform from the scale's first month, so its returns are accepted
                # (the real register starts in 2024-01; a return before it is refused)
                "onboarded": min(template["onboarded"], scale.start),
            }
        )
        new_links += [
            {**link, "body_code": code} for link in delivered.get(template["body_code"], [])
        ]
    _write(
        seeds / "bodies.csv",
        body_columns,
        sorted(new_bodies, key=lambda b: (b["sector"], b["body_code"])),
    )
    _write(seeds / "services.csv", service_columns, services)
    _write(
        seeds / "body_services.csv",
        link_columns,
        sorted(new_links, key=lambda link: (link["body_code"], link["service_code"])),
    )
