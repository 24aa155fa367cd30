"""A synthetic SIAK population extract (CSV or XLSX) for tests and benchmarks, the same from a seed.

Households (Kartu Keluarga) of a head, often a spouse, children, sometimes a grandparent, in the
real villages of a South Sulawesi district (the package's region list); birth-certificate gaps
that differ by village; and the dirty values real extracts carry (blank cells, 00-00-0000,
duplicated NIKs, mixed case, trailing spaces, NIKs mangled by Excel, region parts written as
numbers). Every name and number is made up: no real person's data.

    python tools/siak_extract.py OUT.csv --rows 100000 --district 73.06 --seed 7 [--dirty 0.02]
"""
from __future__ import annotations

import argparse
import csv
import gzip
import random
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGIONS = ROOT / "casemgmt" / "directory" / "data" / "wilayah.csv.gz"

COLUMNS = ["NIK", "NO_KK", "NAMA_LGKP", "JENIS_KLMIN", "TMPT_LHR", "TGL_LHR", "AGAMA", "STAT_KWN", "STAT_HBKEL",
           "PDDK_AKH", "JENIS_PKRJN", "NIK_IBU", "NAMA_LGKP_IBU", "NIK_AYAH", "NAMA_LGKP_AYAH", "ALAMAT", "NO_RT",
           "NO_RW", "NO_PROP", "NO_KAB", "NO_KEC", "NO_KEL", "AKTA_LHR", "NO_AKTA_LHR"]

# Made-up given names in the style of the region (syllables joined), never a list of real people.
_START = ["A", "Ba", "Da", "Fa", "Ha", "I", "Ka", "La", "Ma", "Na", "Ra", "Sa", "Ta", "U", "Wa", "Ya"]
_MIDDLE = ["ndi", "ris", "sma", "ti", "nur", "lam", "hmad", "su", "ri", "wan", "ni", "ma", "ra", "di"]
_END_M = ["n", "man", "din", "ng", "di", "l", "to"]
_END_F = ["ti", "wati", "nah", "ni", "ya", "sa", "na"]
_FAMILY = ["DAENG", "KARAENG", "ANDI", "PUANG", "LA", "I", ""]
_PLACES = ["SUNGGUMINASA", "MAKASSAR", "MAROS", "TAKALAR", "JENEPONTO", "BULUKUMBA", "BONE"]
_JOBS = ["PETANI/PEKEBUN", "MENGURUS RUMAH TANGGA", "WIRASWASTA", "PELAJAR/MAHASISWA", "BELUM/TIDAK BEKERJA",
         "NELAYAN", "BURUH HARIAN LEPAS"]
_RELIGIONS = ["ISLAM"] * 18 + ["KRISTEN", "KATHOLIK"]


def villages(district: str) -> list[str]:
    with gzip.open(REGIONS, "rt", encoding="utf-8") as handle:
        found = [row["code"] for row in csv.DictReader(handle)
                 if row["code"].startswith(district + ".") and row["code"].count(".") == 3]
    if not found:
        raise SystemExit(f"no villages in {district}")
    return found


def _name(rng: random.Random, female: bool) -> str:
    given = rng.choice(_START) + rng.choice(_MIDDLE) + rng.choice(_END_F if female else _END_M)
    second = rng.choice(_START) + rng.choice(_MIDDLE) + rng.choice(_END_F if female else _END_M)
    family = rng.choice(_FAMILY)
    return " ".join(part for part in (family, given.upper(), second.upper()) if part)


def _nik(region6: str, born: date, female: bool, serial: int) -> str:
    day = born.day + (40 if female else 0)
    return f"{region6}{day:02d}{born.month:02d}{born.year % 100:02d}{serial % 10000:04d}"


class _Village:
    def __init__(self, code: str, rng: random.Random):
        self.code = code
        self.parts = code.split(".")
        self.region6 = "".join(self.parts[:3])
        self.no_certificate = rng.choice([0.03, 0.08, 0.15, 0.25, 0.4])  # share of children without akta
        self.female_head = rng.choice([0.08, 0.12, 0.2])
        self.serial = 0


def households(rows: int, district: str, seed: int, extract_date: date):
    """Clean rows (dicts of COLUMNS) in households, until ``rows`` are made."""
    rng = random.Random(seed)
    places = [_Village(code, rng) for code in villages(district)]
    made = 0
    kk_serial = 0
    while made < rows:
        village = rng.choice(places)
        kk_serial += 1
        kk = f"{village.region6}{kk_serial:010d}"
        address = f"JL. {rng.choice(_START).upper()}{rng.choice(_MIDDLE).upper()} NO. {rng.randint(1, 200)}"
        rt, rw = f"{rng.randint(1, 12):03d}", f"{rng.randint(1, 6):03d}"
        members = []

        def person(female: bool, age: int, relationship: int, marital: int, education: int, mother=None,
                   father=None, certificate: bool = True) -> dict:
            born = extract_date - timedelta(days=age * 365 + rng.randint(0, 364))
            village.serial += 1
            nik = _nik(village.region6, born, female, village.serial)
            row = {
                "NIK": nik, "NO_KK": kk, "NAMA_LGKP": _name(rng, female), "JENIS_KLMIN": "2" if female else "1",
                "TMPT_LHR": rng.choice(_PLACES), "TGL_LHR": born.strftime("%d-%m-%Y"),
                "AGAMA": rng.choice(_RELIGIONS), "STAT_KWN": str(marital), "STAT_HBKEL": str(relationship),
                "PDDK_AKH": str(education), "JENIS_PKRJN": rng.choice(_JOBS),
                "NIK_IBU": mother["NIK"] if mother else "", "NAMA_LGKP_IBU": mother["NAMA_LGKP"] if mother else "",
                "NIK_AYAH": father["NIK"] if father else "",
                "NAMA_LGKP_AYAH": father["NAMA_LGKP"] if father else "",
                "ALAMAT": address, "NO_RT": rt, "NO_RW": rw, "NO_PROP": village.parts[0],
                "NO_KAB": village.parts[1], "NO_KEC": village.parts[2], "NO_KEL": village.parts[3],
                "AKTA_LHR": "2" if certificate else "1",
                "NO_AKTA_LHR": f"7306-LT-{born:%d%m%Y}-{village.serial % 100000:05d}" if certificate else "",
            }
            members.append(row)
            return row

        female_head = rng.random() < village.female_head
        head_age = rng.randint(22, 65)
        head = person(female_head, head_age, 1, rng.choice([3, 4]) if female_head else 2,
                      rng.choice([3, 4, 5, 5, 8]))
        spouse = None
        if not female_head:
            spouse = person(True, max(16, head_age - rng.randint(0, 8)), 3, 2, rng.choice([3, 4, 5]))
        mother, father = (spouse, head) if spouse else (head, None)
        for _ in range(rng.choice([0, 1, 2, 2, 3, 3, 4, 5])):
            age = rng.randint(0, min(25, max(0, head_age - 17)))
            female = rng.random() < 0.49
            married = age >= 15 and rng.random() < (0.05 if age < 19 else 0.3)
            if age < 5:
                education = 1
            elif age < 12:
                education = 1 if rng.random() < 0.04 else 2
            elif age < 18:
                education = 1 if rng.random() < 0.03 else rng.choice([3, 4])
            else:
                education = rng.choice([4, 5, 5, 7])
            orphaned = rng.random() < 0.03  # living with the head but not a child of the couple
            person(female, age, 4, 2 if married else 1, education, None if orphaned else mother,
                   None if orphaned else father, certificate=rng.random() >= village.no_certificate)
        if rng.random() < 0.12:
            person(rng.random() < 0.6, rng.randint(60, 85), 7, 4, 2)
        for row in members:
            if made >= rows:
                return
            made += 1
            yield row


def dirty(rows, seed: int, share: float):
    """The clean rows with ``share`` of them spoiled as real extracts are."""
    rng = random.Random(seed + 1)
    previous = None
    for row in rows:
        if rng.random() < share:
            row = dict(row)
            kind = rng.randrange(8)
            if kind == 0:
                row[rng.choice(["PDDK_AKH", "STAT_KWN", "AGAMA", "TMPT_LHR"])] = ""
            elif kind == 1:
                row["TGL_LHR"] = "00-00-0000"
            elif kind == 2 and previous is not None:
                row["NIK"] = previous["NIK"]  # a duplicated NIK
            elif kind == 3:
                row["NAMA_LGKP"] = row["NAMA_LGKP"].title() + "  "
                row["JENIS_KLMIN"] = {"1": "Laki-laki ", "2": "perempuan"}[row["JENIS_KLMIN"]]
            elif kind == 4:
                row["NIK"] = f"{int(row['NIK']) / 1e15:.3f}E+15"  # Excel's number-mangled NIK
            elif kind == 5:
                row["NO_KAB"] = str(int(row["NO_KAB"]))
                row["NO_KEC"] = str(int(row["NO_KEC"]))
            elif kind == 6:
                born = row["TGL_LHR"].split("-")
                row["TGL_LHR"] = f"{born[2]}-{born[1]}-{born[0]}"  # ISO dates from another export
            else:
                row["STAT_HBKEL"] = {"1": "Kepala Keluarga", "3": "ISTRI", "4": "anak"}.get(row["STAT_HBKEL"],
                                                                                          row["STAT_HBKEL"])
        previous = row
        yield row


def write_csv(path: Path, rows) -> int:
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            n += 1
    return n


def write_xlsx(path: Path, rows) -> int:
    sys.path.insert(0, str(ROOT))
    from casemgmt.xlsx import SheetWriter

    n = 0
    with SheetWriter(path, "Sheet1", COLUMNS) as sheet:
        for row in rows:
            sheet.append([row[column] for column in COLUMNS])
            n += 1
    return n


def generate(path: Path, rows: int, district: str = "73.06", seed: int = 1, share: float = 0.02,
             extract_date: date | None = None) -> int:
    made = dirty(households(rows, district, seed, extract_date or date.today()), seed, share)
    return (write_xlsx if Path(path).suffix.lower() == ".xlsx" else write_csv)(Path(path), made)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="a .csv or .xlsx file")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--district", default="73.06")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dirty", type=float, default=0.02, help="share of rows spoiled (0 to 1)")
    parser.add_argument("--date", type=date.fromisoformat, default=None,
                        help="the extract's date, YYYY-MM-DD (today if not given)")
    args = parser.parse_args(argv)
    n = generate(args.out, args.rows, args.district, args.seed, args.dirty, args.date)
    print(f"{n} rows -> {args.out}")


if __name__ == "__main__":
    main()
