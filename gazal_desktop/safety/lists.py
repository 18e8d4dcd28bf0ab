"""The name and place lists shipped in resources/safety (see its README for sources), read
once on first use."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources


def _read(name: str) -> frozenset[str]:
    text = resources.files("gazal_desktop.resources").joinpath("safety", name).read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


@lru_cache(maxsize=None)
def first_names() -> frozenset[str]:
    """Lower-case US first names (Census 1990) that are not everyday words."""
    return _read("first_names.txt")


@lru_cache(maxsize=None)
def last_names() -> frozenset[str]:
    """Lower-case US surnames (the 50,000 commonest, Census 1990)."""
    return _read("last_names.txt")


@lru_cache(maxsize=None)
def us_places() -> frozenset[str]:
    """US cities and towns of 5,000 people or more, as written ("Fort Worth")."""
    return _read("us_places.txt")


@lru_cache(maxsize=None)
def us_counties() -> frozenset[str]:
    """US county names with their word ("Cook County", "Orleans Parish")."""
    return _read("us_counties.txt")


STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho",
    "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine",
    "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri",
    "MT": "Montana", "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico",
    "NY": "New York", "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee",
    "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming", "DC": "District of Columbia",
}
