"""Offline postcode geography for the demo borough (Barnet) and its neighbours.

No network lookups: each postcode district (outward code) maps to the
approximate centroid of that district. That is precise enough for "within
2 miles" searches and keeps the site working with nothing else running. A
postcode outside the table is an error the user can act on, not a guess.
"""

import math
import re

EARTH_RADIUS_METRES = 6_371_008.8


class PostcodeError(ValueError):
    """A postcode we cannot read, or one outside the area we know."""


# Approximate centroids (latitude, longitude) of postcode districts.
DISTRICT_CENTROIDS: dict[str, tuple[float, float]] = {
    # Barnet
    "N2": (51.5880, -0.1660),
    "N3": (51.6000, -0.1920),
    "N10": (51.5920, -0.1440),
    "N11": (51.6140, -0.1400),
    "N12": (51.6140, -0.1760),
    "N14": (51.6330, -0.1290),
    "N20": (51.6300, -0.1750),
    "EN4": (51.6500, -0.1600),
    "EN5": (51.6520, -0.2000),
    "HA8": (51.6130, -0.2750),
    "NW4": (51.5880, -0.2280),
    "NW7": (51.6150, -0.2430),
    "NW9": (51.5850, -0.2600),
    "NW11": (51.5770, -0.1970),
    # Neighbours
    "NW2": (51.5600, -0.2200),
    "NW3": (51.5530, -0.1740),
    "NW6": (51.5420, -0.1970),
    "NW10": (51.5430, -0.2500),
    "N6": (51.5710, -0.1470),
    "N8": (51.5860, -0.1150),
    "N9": (51.6270, -0.0600),
    "N13": (51.6180, -0.1040),
    "N15": (51.5810, -0.0810),
    "N17": (51.5970, -0.0710),
    "N18": (51.6150, -0.0630),
    "N19": (51.5650, -0.1310),
    "N21": (51.6370, -0.1000),
    "N22": (51.6000, -0.1130),
    "EN1": (51.6540, -0.0780),
    "EN2": (51.6620, -0.0960),
    "EN6": (51.7000, -0.1850),
    "HA0": (51.5530, -0.3000),
    "HA1": (51.5800, -0.3400),
    "HA3": (51.5970, -0.3100),
    "HA7": (51.6130, -0.3070),
    "HA9": (51.5590, -0.2830),
    "WD6": (51.6580, -0.2710),
    "WD23": (51.6450, -0.3500),
}

# Outward code + inward code, e.g. "N3 2SB", "EN5 1AB", "NW11 7HP", "W1A 1AA".
_FULL = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
_OUTWARD = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")


def normalise_postcode(value: str) -> str:
    """``" n3  2sb"`` -> ``"N3 2SB"``; a district alone (``"n3"``) -> ``"N3"``.

    Raises PostcodeError with a message fit to show the user.
    """
    compact = re.sub(r"\s+", "", (value or "").upper())
    if not compact:
        raise PostcodeError("Enter a postcode, like N3 2SB.")
    if _OUTWARD.match(compact):
        return compact
    match = _FULL.match(compact)
    if not match:
        raise PostcodeError(f"“{value.strip()}” is not a postcode. Enter a postcode, like N3 2SB.")
    return f"{match.group(1)} {match.group(2)}"


def postcode_district(value: str) -> str:
    """The outward code of a postcode: ``"n3 2sb"`` -> ``"N3"``."""
    return normalise_postcode(value).split(" ")[0]


def coordinates_for_postcode(value: str) -> tuple[float, float]:
    """(latitude, longitude) of the postcode's district centroid.

    Raises PostcodeError for a malformed postcode or one outside the area we cover.
    """
    district = postcode_district(value)
    try:
        return DISTRICT_CENTROIDS[district]
    except KeyError:
        raise PostcodeError(
            f"We do not have a location for {district}. This directory covers Barnet and "
            "the areas around it: try a postcode there."
        ) from None


def known_districts() -> list[str]:
    return sorted(
        DISTRICT_CENTROIDS, key=lambda d: (re.sub(r"\d.*", "", d), int(re.sub(r"\D", "", d)))
    )


def haversine_metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points given in degrees."""
    phi1, phi2 = math.radians(float(lat1)), math.radians(float(lat2))
    d_phi = phi2 - phi1
    d_lambda = math.radians(float(lon2) - float(lon1))
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_METRES * math.asin(math.sqrt(a))


def bounding_box(lat: float, lon: float, radius_metres: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) enclosing a circle: a cheap database pre-filter."""
    d_lat = math.degrees(radius_metres / EARTH_RADIUS_METRES)
    d_lon = math.degrees(radius_metres / (EARTH_RADIUS_METRES * math.cos(math.radians(lat))))
    return lat - d_lat, lat + d_lat, lon - d_lon, lon + d_lon
