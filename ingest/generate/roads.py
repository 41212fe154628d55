"""The motorways and the ANPR cameras on them, in road order, with the trajectory-control sections:
E40, E19, E313, E17, E411, E42, E25, E403, the Brussels ring R0, the Antwerp ring R1 and the N9."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Site:
    code: str
    nl: str
    fr: str
    language: str
    lat: float
    lon: float
    limit: int


@dataclass(frozen=True)
class Road:
    name: str
    toward_last: tuple[str, str]  # destination (nl, fr) of the forward direction
    toward_first: tuple[str, str]
    sites: tuple[Site, ...]
    weight: float  # share of the traffic
    foreign_share: float  # share of foreign-registered vehicles on it
    lanes: int
    trajectories: tuple[int, ...]  # site indices i where a trajectory control runs from i to i+1


def _sites(rows: str, limit: int) -> tuple[Site, ...]:
    out = []
    for line in rows.strip().splitlines():
        code, nl, fr, language, lat, lon, *rest = (part.strip() for part in line.split("|"))
        out.append(
            Site(code, nl, fr or nl, language, float(lat), float(lon), int(rest[0]) if rest else limit)
        )
    return tuple(out)


ROADS = (
    Road(
        "E40",
        ("Oostende", "Ostende"),
        ("Brussel", "Bruxelles"),
        _sites(
            """
        GBG|Groot-Bijgaarden||nl|50.8680|4.2650
        TER|Ternat||nl|50.8720|4.1650
        AFF|Affligem||nl|50.9050|4.1140
        ERP|Erpe-Mere||nl|50.9310|3.9710
        WET|Wetteren||nl|50.9980|3.8700
        ZWI|Zwijnaarde||nl|51.0000|3.7000
        SDW|Sint-Denijs-Westrem||nl|51.0300|3.6680
        AAL|Aalter||nl|51.0850|3.4600
        LOP|Loppem||nl|51.1460|3.2000
        JAB|Jabbeke||nl|51.1830|3.0920
        OUD|Oudenburg||nl|51.1850|2.9800
    """,
            120,
        ),
        1.6,
        0.08,
        3,
        (1, 3, 8),
    ),
    Road(
        "E40",
        ("Luik", "Liège"),
        ("Brussel", "Bruxelles"),
        _sites(
            """
        KRA|Kraainem||nl|50.8690|4.4800
        KOR|Kortenberg||nl|50.8800|4.5400
        BER|Bertem||nl|50.8650|4.6300
        HEV|Heverlee||nl|50.8550|4.7200
        BOU|Boutersem||nl|50.8350|4.8300
        TIE|Tienen||nl|50.7900|4.9500
        LAN|Landen||nl|50.7400|5.0800
        WAR|Waremme|Waremme|fr|50.6900|5.2600
        AWA|Awans|Awans|fr|50.6650|5.4500
        CHE|Cheratte|Cheratte|fr|50.6800|5.6600
        BAT|Battice|Battice|fr|50.6500|5.8300
        LIC|Lichtenbusch|Lichtenbusch|de|50.7030|6.0880
    """,
            120,
        ),
        1.3,
        0.10,
        3,
        (2, 5, 9),
    ),
    Road(
        "E19",
        ("Antwerpen", "Anvers"),
        ("Brussel", "Bruxelles"),
        _sites(
            """
        MAC|Machelen||nl|50.9100|4.4300
        VIL|Vilvoorde||nl|50.9350|4.4250
        ZEM|Zemst||nl|50.9800|4.4700
        MEZ|Mechelen-Zuid||nl|51.0100|4.4800
        MEN|Mechelen-Noord||nl|51.0450|4.4700
        RUM|Rumst||nl|51.0850|4.4500
        KON|Kontich||nl|51.1340|4.4480
        SJB|Sint-Job-in-'t-Goor||nl|51.2900|4.5600
        BRE|Brecht||nl|51.3700|4.6500
        MEE|Meer||nl|51.4800|4.7600
    """,
            120,
        ),
        1.5,
        0.15,
        3,
        (1, 4, 7),
    ),
    Road(
        "E19",
        ("Bergen", "Mons"),
        ("Brussel", "Bruxelles"),
        _sites(
            """
        NIV|Nijvel|Nivelles|fr|50.5970|4.3280
        FAM|Familleureux|Familleureux|fr|50.5000|4.2000
        MON|Bergen|Mons|fr|50.4700|3.9600
        SGH|Saint-Ghislain|Saint-Ghislain|fr|50.4600|3.8200
        HEN|Hensies|Hensies|fr|50.4400|3.6600
    """,
            120,
        ),
        0.6,
        0.18,
        3,
        (0, 2),
    ),
    Road(
        "E313",
        ("Luik", "Liège"),
        ("Antwerpen", "Anvers"),
        _sites(
            """
        WOM|Wommelgem||nl|51.2000|4.5300
        RAN|Ranst||nl|51.1900|4.5900
        MAS|Massenhoven||nl|51.1800|4.6500
        HEW|Herentals-West||nl|51.1700|4.7800
        HEO|Herentals-Oost||nl|51.1650|4.8500
        OLE|Olen||nl|51.1450|4.8900
        GEW|Geel-West||nl|51.1350|4.9500
        GEO|Geel-Oost||nl|51.1200|5.0200
        HAM|Ham||nl|51.0600|5.1200
        BEG|Beringen||nl|51.0250|5.2000
        LUM|Lummen||nl|50.9850|5.2100
        HAS|Hasselt-Oost||nl|50.9250|5.3700
        ALK|Alken||nl|50.8800|5.4200
        TON|Tongeren||nl|50.8000|5.5000
        VOT|Vottem|Vottem|fr|50.6800|5.5700
    """,
            120,
        ),
        1.2,
        0.07,
        3,
        (3, 7, 10),
    ),
    Road(
        "E17",
        ("Kortrijk", "Courtrai"),
        ("Antwerpen", "Anvers"),
        _sites(
            """
        ZWD|Zwijndrecht||nl|51.2150|4.3300
        KRU|Kruibeke||nl|51.1900|4.2700
        SNI|Sint-Niklaas||nl|51.1600|4.1500
        LOK|Lokeren||nl|51.1100|3.9900
        DES|Destelbergen||nl|51.0600|3.8000
        GBR|Gentbrugge||nl|51.0400|3.7600
        DEP|De Pinte||nl|50.9900|3.6500
        KRH|Kruishoutem||nl|50.9000|3.5000
        WAG|Waregem||nl|50.8750|3.4200
        DEE|Deerlijk||nl|50.8450|3.3600
        KOO|Kortrijk-Oost||nl|50.8200|3.3000
        REK|Rekkem||nl|50.7700|3.2200
    """,
            120,
        ),
        1.0,
        0.12,
        3,
        (2, 6, 9),
    ),
    Road(
        "R0",
        ("Zaventem", "Zaventem"),
        ("Waterloo", "Waterloo"),
        _sites(
            """
        HOE|Hoeilaart||nl|50.7650|4.4500
        JEZ|Jezus-Eik||nl|50.7900|4.4700
        STB|Sterrebeek||nl|50.8400|4.4900
        ZAV|Zaventem||nl|50.8850|4.4700
        STR|Strombeek-Bever||nl|50.9050|4.3450
        WEM|Wemmel||nl|50.9080|4.3050
        GRB|Groot-Bijgaarden||nl|50.8700|4.2700
        AND|Anderlecht|Anderlecht|bi|50.8250|4.2650
        RUI|Ruisbroek||nl|50.7900|4.3000
        DRO|Drogenbos||nl|50.7800|4.3200
        RHO|Sint-Genesius-Rode|Rhode-Saint-Genèse|nl|50.7400|4.3700
    """,
            100,
        ),
        1.4,
        0.06,
        3,
        (2, 6),
    ),
    Road(
        "E411",
        ("Aarlen", "Arlon"),
        ("Brussel", "Bruxelles"),
        _sites(
            """
        OVE|Overijse||nl|50.7700|4.5200
        WAV|Waver|Wavre|fr|50.7150|4.6000
        LLN|Louvain-la-Neuve|Louvain-la-Neuve|fr|50.6700|4.6300
        THO|Thorembais|Thorembais|fr|50.6200|4.7100
        DAU|Daussoulx|Daussoulx|fr|50.5200|4.8600
        NAN|Naninne|Naninne|fr|50.4200|4.9300
        ACH|Achêne|Achêne|fr|50.2700|5.0500
        LIB|Libramont|Libramont|fr|49.9200|5.3800
        HAB|Habay|Habay|fr|49.7300|5.6400
        STE|Sterpenich|Sterpenich|fr|49.6500|5.8800
    """,
            120,
        ),
        0.9,
        0.14,
        3,
        (2, 5, 7),
    ),
    Road(
        "E42",
        ("Luik", "Liège"),
        ("Bergen", "Mons"),
        _sites(
            """
        LLO|La Louvière|La Louvière|fr|50.4700|4.1800
        GOS|Gosselies|Gosselies|fr|50.4500|4.4400
        FLE|Fleurus|Fleurus|fr|50.4800|4.5500
        SOM|Sombreffe|Sombreffe|fr|50.5200|4.6000
        AND|Andenne|Andenne|fr|50.5000|5.0800
        VLB|Villers-le-Bouillet|Villers-le-Bouillet|fr|50.5800|5.2600
        AWA|Awans|Awans|fr|50.6650|5.4500
        LGE|Grâce-Hollogne|Grâce-Hollogne|fr|50.6400|5.4800
    """,
            120,
        ),
        0.8,
        0.09,
        3,
        (1, 4),
    ),
    Road(
        "E42",
        ("Sankt Vith", "Saint-Vith"),
        ("Luik", "Liège"),
        _sites(
            """
        VER|Verviers|Verviers|fr|50.5900|5.8600
        FRA|Francorchamps|Francorchamps|fr|50.4500|5.9500
        MAL|Malmedy|Malmedy|fr|50.4260|6.0280
        STV|Sankt Vith|Saint-Vith|de|50.2800|6.1200
    """,
            120,
        ),
        0.3,
        0.12,
        2,
        (1,),
    ),
    Road(
        "E25",
        ("Aarlen", "Arlon"),
        ("Luik", "Liège"),
        _sites(
            """
        SPR|Sprimont|Sprimont|fr|50.5000|5.6500
        AYW|Aywaille|Aywaille|fr|50.4700|5.6700
        FRT|Baraque de Fraiture|Baraque de Fraiture|fr|50.2500|5.7300
        BAS|Bastenaken|Bastogne|fr|50.0000|5.7200
        MAR|Martelange|Martelange|fr|49.8300|5.7400
    """,
            120,
        ),
        0.4,
        0.13,
        2,
        (2,),
    ),
    Road(
        "E403",
        ("Kortrijk", "Courtrai"),
        ("Brugge", "Bruges"),
        _sites(
            """
        SMI|Sint-Michiels||nl|51.1700|3.2000
        TOR|Torhout||nl|51.0650|3.1050
        ROE|Roeselare||nl|50.9450|3.1100
        LEN|Lendelede||nl|50.8800|3.2350
    """,
            120,
        ),
        0.5,
        0.05,
        2,
        (1,),
    ),
    Road(
        "R1",
        ("Antwerpen-Noord", "Anvers-Nord"),
        ("Antwerpen-Zuid", "Anvers-Sud"),
        _sites(
            """
        KEN|Kennedytunnel||nl|51.2050|4.3850
        ANZ|Antwerpen-Zuid||nl|51.1950|4.3950
        BER|Berchem||nl|51.2000|4.4300
        DEU|Deurne||nl|51.2100|4.4600
        MER|Merksem||nl|51.2500|4.4400
    """,
            70,
        ),
        0.9,
        0.05,
        3,
        (),
    ),
    Road(
        "N9",
        ("Maldegem", "Maldegem"),
        ("Gent", "Gand"),
        _sites(
            """
        DAM|Gent Dampoort||nl|51.0600|3.7400|50
        EVE|Evergem||nl|51.1100|3.7000|70
        EEK|Eeklo||nl|51.1850|3.5600|50
    """,
            70,
        ),
        0.3,
        0.02,
        1,
        (),
    ),
)


def distance_km(a: Site, b: Site) -> float:
    """Along the road: the great-circle distance and a sixth for the bends."""
    lat = math.radians((a.lat + b.lat) / 2)
    dy = (b.lat - a.lat) * 111.2
    dx = (b.lon - a.lon) * 111.2 * math.cos(lat)
    return math.hypot(dx, dy) * 1.17


def compass(a: Site, b: Site) -> str:
    """The heading of a vehicle going from a to b, as a camera files it: N, E, S or W."""
    dy = b.lat - a.lat
    dx = (b.lon - a.lon) * math.cos(math.radians(a.lat))
    if abs(dy) >= abs(dx):
        return "N" if dy > 0 else "S"
    return "E" if dx > 0 else "W"
