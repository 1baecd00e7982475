"""The 18 regional CEP operators of the 2020–2023 market: code, name, INSEE region, time zone,
weight (population, millions) and the towns where their sites stand (town, postcode)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    insee: str
    time_zone: str
    weight: float
    towns: tuple[tuple[str, str], ...]

    @property
    def departements(self) -> frozenset[str]:
        """Postcode prefixes of the region (2 digits, 3 overseas), for beneficiaries' postcodes."""
        return frozenset(_prefix(postcode) for _town, postcode in self.towns)


def _prefix(postcode: str) -> str:
    return postcode[:3] if postcode.startswith("97") else postcode[:2]


def _towns(text: str) -> tuple[tuple[str, str], ...]:
    pairs = (item.rsplit(" ", 1) for item in text.split(", "))
    return tuple((town, postcode) for town, postcode in pairs)


PARIS = "Europe/Paris"

# Ordered so that a small scale (fewer operators) still starts with the benchmark's ARA, then
# the largest regions, with one overseas operator early.
REGIONS = (
    Region(
        "ARA",
        "Auvergne-Rhône-Alpes",
        "84",
        PARIS,
        8.1,
        _towns(
            "Lyon 69003, Villeurbanne 69100, Grenoble 38000, Saint-Étienne 42000, "
            "Clermont-Ferrand 63000, Annecy 74000, Chambéry 73000, Valence 26000, "
            "Bourg-en-Bresse 01000, Roanne 42300, Vienne 38200, Montluçon 03100, Aurillac 15000, "
            "Le Puy-en-Velay 43000, Privas 07000, Thonon-les-Bains 74200, Vichy 03200, Moulins 03000"
        ),
    ),
    Region(
        "IDF",
        "Île-de-France",
        "11",
        PARIS,
        12.3,
        _towns(
            "Paris 75011, Paris 75013, Paris 75019, Saint-Denis 93200, Montreuil 93100, "
            "Créteil 94000, Nanterre 92000, Boulogne-Billancourt 92100, Versailles 78000, "
            "Cergy 95000, Évry-Courcouronnes 91000, Melun 77000, Meaux 77100, Argenteuil 95100, "
            "Massy 91300, Saint-Quentin-en-Yvelines 78180, Vitry-sur-Seine 94400, Bobigny 93000"
        ),
    ),
    Region(
        "NAQ",
        "Nouvelle-Aquitaine",
        "75",
        PARIS,
        6.0,
        _towns(
            "Bordeaux 33000, Mérignac 33700, Limoges 87000, Poitiers 86000, Pau 64000, "
            "La Rochelle 17000, Angoulême 16000, Niort 79000, Bayonne 64100, Périgueux 24000, "
            "Agen 47000, Mont-de-Marsan 40000, Brive-la-Gaillarde 19100, Guéret 23000"
        ),
    ),
    Region(
        "REU",
        "La Réunion",
        "04",
        "Indian/Reunion",
        0.87,
        _towns(
            "Saint-Denis 97400, Saint-Pierre 97410, Saint-Paul 97460, Le Port 97420, "
            "Saint-Benoît 97470"
        ),
    ),
    Region(
        "OCC",
        "Occitanie",
        "76",
        PARIS,
        6.0,
        _towns(
            "Toulouse 31000, Montpellier 34000, Nîmes 30000, Perpignan 66000, Béziers 34500, "
            "Narbonne 11100, Carcassonne 11000, Albi 81000, Montauban 82000, Rodez 12000, "
            "Tarbes 65000, Auch 32000, Cahors 46000, Mende 48000, Foix 09000"
        ),
    ),
    Region(
        "HDF",
        "Hauts-de-France",
        "32",
        PARIS,
        6.0,
        _towns(
            "Lille 59000, Roubaix 59100, Valenciennes 59300, Dunkerque 59140, Amiens 80000, "
            "Arras 62000, Lens 62300, Calais 62100, Boulogne-sur-Mer 62200, Beauvais 60000, "
            "Compiègne 60200, Saint-Quentin 02100, Laon 02000, Maubeuge 59600"
        ),
    ),
    Region(
        "GES",
        "Grand Est",
        "44",
        PARIS,
        5.6,
        _towns(
            "Strasbourg 67000, Mulhouse 68100, Colmar 68000, Metz 57000, Nancy 54000, "
            "Reims 51100, Troyes 10000, Charleville-Mézières 08000, Épinal 88000, "
            "Châlons-en-Champagne 51000, Thionville 57100, Chaumont 52000, Bar-le-Duc 55000"
        ),
    ),
    Region(
        "PAC",
        "Provence-Alpes-Côte d'Azur",
        "93",
        PARIS,
        5.1,
        _towns(
            "Marseille 13001, Marseille 13013, Nice 06000, Toulon 83000, Aix-en-Provence 13100, "
            "Avignon 84000, Cannes 06400, Fréjus 83600, Gap 05000, Digne-les-Bains 04000, "
            "Arles 13200, Martigues 13500"
        ),
    ),
    Region(
        "PDL",
        "Pays de la Loire",
        "52",
        PARIS,
        3.8,
        _towns(
            "Nantes 44000, Saint-Nazaire 44600, Angers 49000, Le Mans 72000, "
            "La Roche-sur-Yon 85000, Laval 53000, Cholet 49300, Saumur 49400"
        ),
    ),
    Region(
        "NOR",
        "Normandie",
        "28",
        PARIS,
        3.3,
        _towns(
            "Rouen 76000, Le Havre 76600, Caen 14000, Cherbourg-en-Cotentin 50100, Évreux 27000, "
            "Alençon 61000, Saint-Lô 50000, Dieppe 76200, Lisieux 14100"
        ),
    ),
    Region(
        "BRE",
        "Bretagne",
        "53",
        PARIS,
        3.4,
        _towns(
            "Rennes 35000, Brest 29200, Quimper 29000, Lorient 56100, Vannes 56000, "
            "Saint-Brieuc 22000, Saint-Malo 35400, Lannion 22300"
        ),
    ),
    Region(
        "BFC",
        "Bourgogne-Franche-Comté",
        "27",
        PARIS,
        2.8,
        _towns(
            "Dijon 21000, Besançon 25000, Belfort 90000, Chalon-sur-Saône 71100, Auxerre 89000, "
            "Nevers 58000, Mâcon 71000, Montbéliard 25200, Vesoul 70000, Lons-le-Saunier 39000"
        ),
    ),
    Region(
        "CVL",
        "Centre-Val de Loire",
        "24",
        PARIS,
        2.6,
        _towns(
            "Orléans 45000, Tours 37000, Bourges 18000, Blois 41000, Chartres 28000, "
            "Châteauroux 36000, Dreux 28100, Montargis 45200"
        ),
    ),
    Region(
        "GUA",
        "Guadeloupe",
        "01",
        "America/Guadeloupe",
        0.38,
        _towns("Pointe-à-Pitre 97110, Basse-Terre 97100, Les Abymes 97139"),
    ),
    Region(
        "MTQ",
        "Martinique",
        "02",
        "America/Martinique",
        0.36,
        _towns("Fort-de-France 97200, Le Lamentin 97232, Le Robert 97231"),
    ),
    Region(
        "GUY",
        "Guyane",
        "03",
        "America/Cayenne",
        0.29,
        _towns("Cayenne 97300, Kourou 97310, Saint-Laurent-du-Maroni 97320"),
    ),
    Region(
        "COR",
        "Corse",
        "94",
        PARIS,
        0.35,
        _towns("Ajaccio 20000, Bastia 20200, Porto-Vecchio 20137"),
    ),
    Region(
        "MAY", "Mayotte", "06", "Indian/Mayotte", 0.31, _towns("Mamoudzou 97600, Dzaoudzi 97615")
    ),
)
