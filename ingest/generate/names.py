"""Names by origin, and the ways registers spell them.

Entity resolution is measured on what clerks really do to names: particles joined or split
(Van den Bossche / Vandenbossche / Van Den Bossche), accents dropped (Hélène / Helene, Öztürk / Ozturk),
transliterations (Mohamed / Mohammed, Dimitri / Dmitri), hyphens (Jean-Baptiste / Jean Baptiste), and
nicknames as aliases. Case is the registers' own business (SURNAME in capitals), done by the writers.
"""

from __future__ import annotations

import functools
import unicodedata

FLEMISH_SURNAMES = (
    "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters",
    "De Smet", "Hermans", "Aerts", "Lambrechts", "Van Damme", "Vermeulen", "De Clercq", "Pauwels",
    "Martens", "Verstraete", "Van de Velde", "Van den Bossche", "De Backer", "Van Dyck", "Claeys",
    "Smets", "De Wilde", "Bogaerts", "Cools", "Segers", "Stevens", "Coppens", "Geerts", "Van Hoof",
    "Verhoeven", "Hendrickx", "De Vos", "Michiels", "Verbruggen", "Van Acker", "De Meyer", "Van Hecke",
    "Buyse", "De Pauw", "Wuyts", "Van Looy", "Lemmens", "Thys", "De Coninck", "Van der Linden",
    "Verlinden", "Van den Broeck", "D'Hondt", "De Groote", "Moens", "Van Hove", "Bracke", "Verhaeghe",
    "Dewaele", "De Muynck", "Van Campenhout", "Vercammen", "Van Eycken", "De Vries", "Vandenberghe",
    "Van Den Heuvel", "De Ridder", "Vanhoutte", "Desmet", "Baert", "Vervaet", "Schepens", "De Baets",
)  # fmt: skip
WALLOON_SURNAMES = (
    "Dubois", "Lambert", "Dupont", "Martin", "Simon", "Laurent", "Leclercq", "Dumont", "Renard",
    "Lejeune", "Lefèbvre", "François", "Mathieu", "Henry", "Collard", "Denis", "Jacquet", "Lemaire",
    "Charlier", "Lecomte", "Gilson", "Thiry", "Leroy", "Fontaine", "Hubert", "Piette", "Wathelet",
    "Delvaux", "Noël", "Massart", "Masson", "Dethier", "Georges", "Poncelet", "Marchal", "Goffin",
    "Bastin", "Léonard", "Duchêne", "Delhaye", "Pirard", "Lemoine", "Rousseau", "Gérard", "Hardy",
    "Baudoux", "Dufour", "Dupuis", "Deprez", "Bertrand", "Michaux", "Degrelle", "Van der Elst",
)  # fmt: skip
GERMAN_SURNAMES = (
    "Schmitz", "Müller", "Kreutz", "Heinen", "Cremer", "Lentz", "Jousten", "Schröder", "Mertes",
    "Hilgers", "Pauels", "Thunus", "Klinkenberg", "Keßler", "Heck", "Meyer", "Reuter", "Hoffmann",
    "Fickers", "Graf",
)  # fmt: skip
MAGHREB_SURNAMES = (
    "El Amrani", "Benali", "El Idrissi", "Bouzid", "Aït Ouali", "Haddad", "El Khattabi", "Azzouzi",
    "Bakkali", "Chaouki", "El Ouahabi", "Mansouri", "Belhaj", "Tahiri", "Boukhari", "Ben Ahmed",
)  # fmt: skip
# The dotless i of Turkish names is their spelling, not a typo.
TURKISH_SURNAMES = ("Yılmaz", "Kaya", "Demir", "Öztürk", "Çelik", "Şahin", "Aydın", "Arslan", "Doğan", "Koç")  # noqa: RUF001
CONGOLESE_SURNAMES = ("Mukendi", "Kabongo", "Tshibangu", "Ilunga", "Mbuyi", "Kalonji", "Lukusa", "Mwamba")
ITALIAN_SURNAMES = ("Rossi", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Russo", "Lo Bue")
POLISH_SURNAMES = ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski")
ROMANIAN_SURNAMES = ("Popescu", "Ionescu", "Popa", "Stan", "Dumitru", "Munteanu")
EAST_SURNAMES = ("Ivanov", "Kovalenko", "Petrov", "Shevchenko", "Smirnov", "Bondarenko", "Volkov")
ALBANIAN_SURNAMES = ("Hoxha", "Krasniqi", "Gashi", "Berisha", "Shehu")
CHINESE_SURNAMES = ("Zhang", "Wang", "Li", "Chen", "Liu", "Huang", "Zhou")
SOUTH_ASIAN_SURNAMES = ("Sharma", "Singh", "Patel", "Khan", "Ahmadi", "Hussain", "Rahimi")
WEST_AFRICAN_SURNAMES = ("Diallo", "Bah", "Traoré", "Okafor", "Mensah", "Ndiaye", "Nkemdirim")
DUTCH_SURNAMES = ("Bakker", "de Jong", "Visser", "Smit", "van Dijk", "Mulder", "de Boer", "Jansen")
FRENCH_SURNAMES = ("Martin", "Bernard", "Petit", "Moreau", "Lefebvre", "Roux", "Fournier", "Girard")
LUXEMBOURG_SURNAMES = ("Weber", "Schmit", "Muller", "Wagner", "Hoffmann", "Thill", "Schroeder")

GIVEN = {
    "flemish": (
        ("Jan", "Pieter", "Luc", "Marc", "Koen", "Bart", "Tom", "Wim", "Dirk", "Geert", "Kris", "Stijn",
         "Jens", "Wout", "Lars", "Arne", "Thomas", "Kevin", "Jonas", "Lucas", "Noah", "Milan", "Jef"),
        ("Sofie", "An", "Els", "Katrien", "Inge", "Lien", "Sarah", "Lotte", "Emma", "Marie", "Nina",
         "Elke", "Hilde", "Veerle", "Griet", "Ine", "Fien", "Lore", "Jolien", "Kaat", "Liesbeth"),
    ),
    "walloon": (
        ("Jean", "Pierre", "Philippe", "Michel", "Alain", "Olivier", "Laurent", "Nicolas", "Julien",
         "Maxime", "Hugo", "Louis", "Thibault", "Sébastien", "François", "Benoît", "Jérôme", "Cédric"),
        ("Marie", "Isabelle", "Nathalie", "Catherine", "Sophie", "Julie", "Camille", "Chloé", "Manon",
         "Léa", "Amélie", "Céline", "Aurélie", "Hélène", "Mélanie", "Émilie", "Noémie", "Géraldine"),
    ),
    "german": (
        ("Jürgen", "Klaus", "Stefan", "Andreas", "Jörg", "Lukas", "Jonas", "Tobias", "Mathias"),
        ("Sabine", "Ursula", "Anja", "Jessica", "Stefanie", "Katrin", "Julia", "Monika"),
    ),
    "maghreb": (
        ("Mohamed", "Ahmed", "Youssef", "Karim", "Mehdi", "Saïd", "Hassan", "Omar", "Ali", "Ayoub",
         "Bilal", "Hamza", "Ibrahim", "Rachid", "Mustapha"),
        ("Fatima", "Khadija", "Amina", "Nadia", "Samira", "Yasmina", "Salma", "Meryem", "Souad"),
    ),
    "turkish": (
        ("Mehmet", "Mustafa", "Emre", "Burak", "Murat", "Hakan", "Ahmet", "Yusuf"),
        ("Ayşe", "Elif", "Zeynep", "Hatice", "Emine", "Özlem"),
    ),
    "congolese": (
        ("Jean-Baptiste", "Patrick", "Christian", "Joseph", "Emmanuel", "Trésor", "Glody"),
        ("Grâce", "Divine", "Christelle", "Nadège", "Ornella", "Merveille"),
    ),
    "italian": (("Giuseppe", "Marco", "Salvatore", "Antonio", "Luca"),
                ("Giulia", "Rosa", "Francesca", "Maria")),
    "polish": (("Piotr", "Tomasz", "Krzysztof", "Paweł"), ("Agnieszka", "Katarzyna", "Małgorzata", "Anna")),
    "romanian": (("Ion", "Andrei", "Mihai", "Florin", "Gheorghe"), ("Ana", "Elena", "Ioana", "Maria")),
    "east": (("Dimitri", "Sergei", "Oleksandr", "Ivan", "Andrei"), ("Olena", "Natalia", "Irina", "Svetlana")),
    "albanian": (("Arben", "Besnik", "Driton", "Fatmir"), ("Arta", "Blerta", "Drita")),
    "chinese": (("Wei", "Jun", "Hao", "Lei"), ("Mei", "Xia", "Lan", "Ying")),
    "south_asian": (("Ravi", "Arjun", "Imran", "Farid", "Ahmad"), ("Priya", "Ayesha", "Sana", "Fatemeh")),
    "west_african": (("Mamadou", "Ibrahima", "Chinedu", "Kwame", "Moussa"),
                     ("Aminata", "Fatoumata", "Adaeze")),
    "dutch": (("Jeroen", "Sander", "Bram", "Daan", "Ruud"), ("Anouk", "Sanne", "Femke", "Lieke")),
    "french": (("Pierre", "Julien", "Antoine", "Mathieu", "Guillaume"),
               ("Claire", "Camille", "Pauline", "Élodie")),
    "luxembourgish": (("Jean", "Marc", "Luc", "Paul"), ("Claire", "Anne", "Martine", "Josée")),
}  # fmt: skip

SURNAMES = {
    "flemish": FLEMISH_SURNAMES,
    "walloon": WALLOON_SURNAMES,
    "german": GERMAN_SURNAMES,
    "maghreb": MAGHREB_SURNAMES,
    "turkish": TURKISH_SURNAMES,
    "congolese": CONGOLESE_SURNAMES,
    "italian": ITALIAN_SURNAMES,
    "polish": POLISH_SURNAMES,
    "romanian": ROMANIAN_SURNAMES,
    "east": EAST_SURNAMES,
    "albanian": ALBANIAN_SURNAMES,
    "chinese": CHINESE_SURNAMES,
    "south_asian": SOUTH_ASIAN_SURNAMES,
    "west_african": WEST_AFRICAN_SURNAMES,
    "dutch": DUTCH_SURNAMES,
    "french": FRENCH_SURNAMES,
    "luxembourgish": LUXEMBOURG_SURNAMES,
}

# Nationality (ISO 3166 alpha-3) of people of each origin who do not hold Belgian nationality.
NATIONALITIES = {
    "maghreb": ("MAR", "DZA", "TUN"),
    "turkish": ("TUR",),
    "congolese": ("COD",),
    "italian": ("ITA",),
    "polish": ("POL",),
    "romanian": ("ROU", "MDA"),
    "east": ("RUS", "UKR", "BLR", "GEO"),
    "albanian": ("ALB", "XKX"),
    "chinese": ("CHN",),
    "south_asian": ("IND", "PAK", "AFG"),
    "west_african": ("GIN", "NGA", "GHA", "SEN", "CMR"),
    "dutch": ("NLD",),
    "french": ("FRA",),
    "luxembourgish": ("LUX",),
    "flemish": ("BEL",),
    "walloon": ("BEL",),
    "german": ("BEL",),
}

# Spellings of one given name that registers use interchangeably.
GIVEN_VARIANTS = (
    ("Mohamed", "Mohammed", "Mohammad", "Muhammad", "Mohamad"),
    ("Ahmed", "Ahmet", "Achmed"),
    ("Youssef", "Youssouf", "Yousef", "Joessef"),
    ("Karim", "Kareem"),
    ("Mehdi", "Mahdi"),
    ("Hassan", "Hasan"),
    ("Omar", "Umar"),
    ("Ibrahim", "Ebrahim", "Brahim"),
    ("Mustapha", "Mustafa", "Moustafa"),
    ("Rachid", "Rashid"),
    ("Fatima", "Fatma", "Fatiha"),
    ("Khadija", "Khadidja"),
    ("Yasmina", "Yasmine"),
    ("Meryem", "Maryam", "Mariam"),
    ("Dimitri", "Dmitri", "Dmitry"),
    ("Sergei", "Sergey", "Serguei"),
    ("Oleksandr", "Aleksandr", "Alexandre"),
    ("Olena", "Elena", "Helena"),
    ("Natalia", "Natalya"),
    ("Andrei", "Andrey", "Andrej"),
    ("Pieter", "Peter"),
    ("Katrien", "Katrijn"),
    ("Jef", "Jozef"),
    ("Giuseppe", "Joseph"),
    ("Piotr", "Pierre"),
)
SURNAME_VARIANTS = (
    ("Ivanov", "Ivanoff", "Iwanow"),
    ("Kovalenko", "Kowalenko"),
    ("Shevchenko", "Chevtchenko", "Schewtschenko"),
    ("Petrov", "Petroff"),
    ("Haddad", "Hadad"),
    ("Bouzid", "Bouzide"),
    ("Mansouri", "Mansoury"),
    ("Tshibangu", "Tchibangu"),
    ("Kowalski", "Kovalski"),
    ("Janssens", "Jansens"),
    ("Peeters", "Peters"),
    ("Claeys", "Claeijs"),
    ("Hendrickx", "Hendrikx"),
    ("Verhaeghe", "Verhaege"),
    ("De Smet", "De Smedt"),
    ("Desmet", "De Smet"),
    ("Dewaele", "De Waele"),
    ("De Clercq", "De Klerck"),
    ("Lefèbvre", "Lefebre"),
    ("Vanhoutte", "Van Houtte"),
)
_GIVEN_INDEX = {name: group for group in GIVEN_VARIANTS for name in group}
_SURNAME_INDEX = {name: group for group in SURNAME_VARIANTS for name in group}
PARTICLES = {"van", "de", "den", "der", "ter", "ten", "le", "la", "du", "el", "ben", "lo", "d'"}

NICKNAMES = (
    "Johnny", "Kéké", "de Rus", "le Grand", "Mimi", "Rico", "Pitbull", "Tonton", "de Prof", "Sammy",
    "la Crapule", "Zorro", "de Kapitein", "Bébé", "Flash", "Popeye", "Tito", "Nounours",
)  # fmt: skip


def strip_accents(text: str) -> str:
    replaced = text.replace("ß", "ss").replace("ı", "i").replace("ł", "l").replace("Ł", "L")  # noqa: RUF001
    decomposed = unicodedata.normalize("NFKD", replaced)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@functools.cache
def surname_variants(surname: str) -> tuple[str, ...]:
    """The canonical surname first, then the spellings registers use for it."""
    found = [surname]
    words = surname.replace("'", "' ").split()
    if len(words) > 1 and words[0].lower() in PARTICLES:
        # Van den Bossche -> Vandenbossche, Van Den Bossche; D'Hondt -> Dhondt; El Amrani -> El-Amrani
        found.append(
            words[0].capitalize().rstrip("' ") + "".join(word.lower() for word in words[1:]).replace("'", "")
        )
        found.append(" ".join(word.capitalize() for word in surname.split()))
        if words[0].lower() in {"el", "ben"}:
            found.append("-".join(surname.split()))
    elif surname[:3].lower() in {"van", "ver"} and len(surname) > 7 and surname[:3] == "Van":
        # Vandenberghe -> Van den Berghe (a joined name split again by a clerk)
        rest = surname[3:]
        if rest.lower().startswith("den"):
            found.append(f"Van den {rest[3:].capitalize()}")
    found += [name for name in _SURNAME_INDEX.get(surname, ()) if name != surname]
    plain = strip_accents(surname)
    if plain != surname:
        found.append(plain)
        if "ö" in surname or "ü" in surname:
            found.append(surname.replace("ö", "oe").replace("ü", "ue").replace("Ö", "Oe"))
    return tuple(dict.fromkeys(name for name in found if name))


@functools.cache
def given_variants(given: str) -> tuple[str, ...]:
    found = [given, *(name for name in _GIVEN_INDEX.get(given, ()) if name != given)]
    plain = strip_accents(given)
    if plain != given:
        found.append(plain)
    if "-" in given:
        found.append(given.replace("-", " "))
    return tuple(dict.fromkeys(found))
