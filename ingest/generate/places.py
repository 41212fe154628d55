"""Where things happen: Belgian municipalities (the packaged table), streets, airports, ports and
vessels, and the neighbours' towns for foreign owners. The motorway cameras are in roads.py."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Municipality:
    postcode: str
    nl: str
    fr: str
    de: str
    language: str  # nl, fr, de, or bi (Brussels: both)
    province: str
    lat: float
    lon: float
    population: int  # thousands, approximate: how often things happen there

    def name(self, language: str) -> str:
        if language == "de" and self.de:
            return self.de
        return self.fr if language == "fr" else self.nl

    @property
    def local_name(self) -> str:
        return self.name("fr" if self.language in {"fr", "bi"} else self.language)


@functools.cache
def municipalities() -> tuple[Municipality, ...]:
    table = resources.files(__package__).joinpath("municipalities.csv")
    with table.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream, delimiter=";"))
    return tuple(
        Municipality(
            postcode=row["postcode"],
            nl=row["nl"],
            fr=row["fr"] or row["nl"],
            de=row["de"],
            language=row["language"],
            province=row["province"],
            lat=float(row["lat"]),
            lon=float(row["lon"]),
            population=int(row["population"]),
        )
        for row in rows
    )


@functools.cache
def population_weights() -> tuple[int, ...]:
    """Cumulative weights for `random.choices(..., cum_weights=...)`: people live where people live."""
    total, out = 0, []
    for place in municipalities():
        total += place.population
        out.append(total)
    return tuple(out)


STREETS = {
    "nl": (
        "Kerkstraat", "Stationsstraat", "Dorpsstraat", "Molenstraat", "Schoolstraat", "Nieuwstraat",
        "Kapelstraat", "Beekstraat", "Veldstraat", "Bosstraat", "Hoogstraat", "Langestraat", "Markt",
        "Grote Markt", "Lindenlaan", "Kastanjelaan", "Ringlaan", "Koning Albertlaan", "Leopoldlaan",
        "Brusselsesteenweg", "Gentsesteenweg", "Antwerpsesteenweg", "Industrieweg", "Heirweg",
        "Zandstraat", "Smisstraat", "Vijverstraat", "Sint-Jansstraat", "Noorderlaan", "Turnhoutsebaan",
        "Dampoortstraat", "Kortrijksesteenweg", "Meersstraat", "Processiestraat", "Tiensestraat",
        "Bredabaan", "Stapelplein", "Astridlaan", "Groenstraat", "Kouterstraat",
    ),
    "fr": (
        "Rue de la Station", "Rue de l'Église", "Rue du Moulin", "Rue Haute", "Grand-Place",
        "Place communale", "Rue des Écoles", "Chaussée de Bruxelles", "Chaussée de Namur", "Rue Neuve",
        "Avenue des Tilleuls", "Rue de la Gare", "Rue du Centre", "Rue Saint-Martin", "Rue de Liège",
        "Rue des Champs", "Avenue Albert Ier", "Rue Reine Astrid", "Rue du Château", "Rue de Mons",
        "Rue de Brabant", "Rue Saint-Léonard", "Boulevard de la Sauvenière", "Rue du Marché",
        "Chaussée de Louvain", "Rue de la Loi", "Avenue Louise", "Rue du Pont", "Place Saint-Lambert",
        "Rue des Alliés", "Quai de la Batte", "Rue de Fer", "Chaussée de Charleroi", "Rue Royale",
    ),
    "de": (
        "Kirchstraße", "Bahnhofstraße", "Hauptstraße", "Aachener Straße", "Klosterstraße", "Neustraße",
        "Rathausplatz", "Malmedyer Straße", "Gospertstraße", "Herbesthaler Straße", "Schulstraße",
        "Talstraße", "Wiesenweg", "Vennbahnweg",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class ForeignTown:
    country: str  # ISO alpha-2
    name: str
    postcode: str
    streets: tuple[str, ...]


FOREIGN_TOWNS = (
    ForeignTown("NL", "Breda", "4818 JA", ("Ginnekenweg", "Haagweg", "Baronielaan")),
    ForeignTown("NL", "Eindhoven", "5611 AB", ("Stratumseind", "Kruisstraat", "Boschdijk")),
    ForeignTown("NL", "Maastricht", "6211 CK", ("Brusselsestraat", "Wycker Brugstraat", "Tongerseweg")),
    ForeignTown("NL", "Roosendaal", "4701 NA", ("Markt", "Nispensestraat", "Brugstraat")),
    ForeignTown("NL", "Rotterdam", "3011 AD", ("Coolsingel", "Nieuwe Binnenweg", "Groene Hilledijk")),
    ForeignTown("NL", "Terneuzen", "4531 EJ", ("Noordstraat", "Axelsestraat", "Oostkolkweg")),
    ForeignTown("NL", "Tilburg", "5038 CB", ("Heuvelring", "Ringbaan-West", "Korvelseweg")),
    ForeignTown("FR", "Lille", "59000", ("Rue Nationale", "Boulevard de la Liberté", "Rue Solférino")),
    ForeignTown("FR", "Roubaix", "59100", ("Grande Rue", "Rue de Lannoy", "Avenue Jean Lebas")),
    ForeignTown("FR", "Tourcoing", "59200", ("Rue de Lille", "Boulevard Gambetta", "Rue de Roubaix")),
    ForeignTown(
        "FR", "Dunkerque", "59140", ("Boulevard Alexandre III", "Rue Poincaré", "Quai de la Citadelle")
    ),
    ForeignTown("FR", "Valenciennes", "59300", ("Rue de Famars", "Avenue de Condé", "Rue de Paris")),
    ForeignTown("FR", "Maubeuge", "59600", ("Rue de la Croix", "Avenue de France", "Rue d'Hautmont")),
    ForeignTown(
        "FR", "Charleville-Mézières", "08000", ("Place Ducale", "Rue de la République", "Avenue Forest")
    ),
    ForeignTown("DE", "Aachen", "52062", ("Pontstraße", "Adalbertsteinweg", "Jülicher Straße")),
    ForeignTown("DE", "Köln", "50667", ("Hohe Straße", "Venloer Straße", "Aachener Straße")),
    ForeignTown("DE", "Düsseldorf", "40213", ("Königsallee", "Kölner Straße", "Graf-Adolf-Straße")),
    ForeignTown("DE", "Trier", "54290", ("Simeonstraße", "Saarstraße", "Paulinstraße")),
    ForeignTown("DE", "Mönchengladbach", "41061", ("Hindenburgstraße", "Bismarckstraße", "Viersener Straße")),
    ForeignTown("LU", "Luxembourg", "L-1660", ("Grand-Rue", "Avenue de la Liberté", "Rue de Hollerich")),
    ForeignTown(
        "LU", "Esch-sur-Alzette", "L-4010", ("Rue de l'Alzette", "Boulevard Kennedy", "Rue du Canal")
    ),
    ForeignTown("LU", "Differdange", "L-4620", ("Avenue de la Liberté", "Rue Émile Mark", "Grand-Rue")),
    ForeignTown("PL", "Wrocław", "50-001", ("ulica Świdnicka", "ulica Legnicka", "ulica Kościuszki")),
)


# -- airports, ports, vessels --------------------------------------------------------------------------
AIRPORTS = {
    "BRU": ("BRU Zaventem T-A", "LPA Brussel-Nationaal"),
    "CRL": ("CRL Charleroi", "LPA Charleroi"),
    "LGG": ("LGG Liège Airport", "LPA Liège"),
    "OST": ("OST Oostende Airport", "LPA Oostende"),
    "ANR": ("ANR Antwerp Airport", "LPA Antwerpen"),
}
# flight number, carrier, Belgian airport, other end (IATA)
FLIGHTS = (
    ("SN3412", "Brussels Airlines", "BRU", "DSS"), ("SN2817", "Brussels Airlines", "BRU", "LIS"),
    ("SN2283", "Brussels Airlines", "BRU", "FCO"), ("SN3705", "Brussels Airlines", "BRU", "CMN"),
    ("SN359", "Brussels Airlines", "BRU", "FIH"), ("SN2093", "Brussels Airlines", "BRU", "LHR"),
    ("TK1937", "Turkish Airlines", "BRU", "IST"), ("AT836", "Royal Air Maroc", "BRU", "CMN"),
    ("OS352", "Austrian Airlines", "BRU", "VIE"), ("LH1011", "Lufthansa", "BRU", "FRA"),
    ("AF1261", "Air France", "BRU", "CDG"), ("KL1724", "KLM", "BRU", "AMS"), ("EK184", "Emirates", "BRU",
                                                                              "DXB"),
    ("QR196", "Qatar Airways", "BRU", "DOH"), ("ET725", "Ethiopian Airlines", "BRU", "ADD"),
    ("TB1283", "TUI fly Belgium", "BRU", "RAK"), ("TB2055", "TUI fly Belgium", "OST", "AGP"),
    ("TB1521", "TUI fly Belgium", "LGG", "NBE"), ("FR8263", "Ryanair", "CRL", "BCN"),
    ("FR6221", "Ryanair", "CRL", "NDR"), ("FR1844", "Ryanair", "CRL", "OTP"), ("W61053", "Wizz Air", "CRL",
                                                                               "KTW"),
    ("W63327", "Wizz Air", "CRL", "SOF"), ("3O432", "Air Arabia Maroc", "CRL", "TNG"),
    ("BA9015", "BA CityFlyer", "ANR", "LCY"), ("N-PRIV-77", "Private (Cessna Citation)", "OST", "LTN"),
    ("OO-JET", "Private (Pilatus PC-12)", "ANR", "LBG"),
)  # fmt: skip

PORTS = {
    "BEANR": "Antwerpen Haven (BEANR)",
    "BEZEE": "Zeebrugge Haven (BEZEE)",
    "BEGNE": "Gent Haven (BEGNE)",
    "BEOST": "Oostende Haven (BEOST)",
}
# name, flag, home port, other ends, ferry (carries passengers)
VESSELS = (
    ("MSC ANNA", "PA", "BEANR", ("CNSHA", "SGSIN"), False), ("MAERSK ESSEN", "DK", "BEANR",
                                                             ("USNYC", "BRSSZ"), False),
    ("CMA CGM JULES VERNE", "FR", "BEANR", ("CNSHA", "MAPTM"), False), ("ONE HANNOVER", "JP", "BEANR",
                                                                        ("SGSIN", "INNSA"), False),
    ("HMM ALGECIRAS", "PA", "BEANR", ("KRPUS", "ESALG"), False), ("COSCO SHIPPING ARIES", "HK", "BEANR",
                                                                  ("CNNGB", "TRMER"), False),
    ("NORDIC BREEZE", "MT", "BEGNE", ("RULED", "SEGOT"), False), ("ARK GERMANIA", "DE", "BEGNE",
                                                                  ("DEHAM", "NOOSL"), False),
    ("GRANDE ATLANTICO", "IT", "BEANR", ("NGLOS", "SNDKR"), False), ("HÖEGH TRACER", "NO", "BEZEE",
                                                                     ("ZADUR", "USBAL"), False),
    ("STENA FORETELLER", "SE", "BEZEE", ("GBHUL", "SEGOT"), False), ("CLIPPER POINT", "CY", "BEZEE",
                                                                     ("GBTIL", "IEDUB"), False),
    ("PRIDE OF BRUGES", "GB", "BEZEE", ("GBHUL",), True), ("PRIDE OF YORK", "GB", "BEZEE", ("GBHUL",), True),
    ("FINNMASTER", "FI", "BEZEE", ("FIHKO", "SEGOT"), False), ("BORE SONG", "NL", "BEZEE",
                                                               ("GBPUR", "NLRTM"), False),
    ("ATLANTIC STAR", "GB", "BEANR", ("USBAL", "CAHAL"), False), ("SEAWAYS RUBY", "LR", "BEANR",
                                                                  ("TRMER", "GRPIR"), False),
    ("WILSON BREMEN", "MT", "BEGNE", ("GBGOO", "NOBGO"), False), ("ARX OSTEND", "BE", "BEOST", ("GBRMG",),
                                                                  True),
)  # fmt: skip
