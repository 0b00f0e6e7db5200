"""A Spanish city's data (Madrid, centro), made from real data by renaming, recoding and moving it.

The fixture of :mod:`moved_city` with a Spanish municipality's naming: file and field names in
Spanish (``Predios``, ``Ejes_Viales``, ``Equipamientos``, ``Barrios``, ``Limite_Municipal``;
``Referencia_Catastral``, ``Uso_Suelo``, ``Superficie_Construida``, ``Viviendas``,
``Valor_Suelo``), land use in the Copernicus Urban Atlas codes a European city without its own
land-use layer takes, ETRS89 / UTM 30N (EPSG:25830), values in euros, facility kinds as a
municipal inventory writes them (``Parque de Bomberos``, ``Colegio Público``, ``Centro de
Salud``). The shapes, streets, homes and facilities stay Cambridge's, moved.
"""

from __future__ import annotations

from pathlib import Path

import moved_city

ETRS89_UTM30 = "EPSG:25830"
EUR_PER_USD = 0.92

LAND_USE = {  # planning class of the demo parcels -> Urban Atlas code
    "residential": "11100",
    "mixed": "11210",
    "commercial": "12100",
    "industrial": "12300",
    "institutional": "12100",
    "vacant": "13400",
    "parking": "12220",
}
KINDS = {
    "fire_station": "Parque de Bomberos",
    "public_school": "Colegio Público",
    "private_school": "Colegio Privado",
    "health_clinic": "Centro de Salud",
    "hospital": "Hospital",
    "public_library": "Biblioteca Municipal",
    "police_station": "Comisaría de Policía",
    "day_care": "Escuela Infantil",
    "elderly_facility": "Centro de Mayores",
    "municipal_building": "Junta Municipal",
    "youth_center": "Centro Juvenil",
    "emergency_shelter": "Albergue",
}
BARRIOS = [
    "Sol", "Cortes", "Embajadores", "Palacio", "Universidad", "Justicia", "Jerónimos",
    "Recoletos", "Goya", "Lista", "Castellana", "Almagro", "Trafalgar",
]  # fmt: skip

SPEC = moved_city.CitySpec(
    crs=ETRS89_UTM30,
    centre_lonlat=(-3.7038, 40.4168),
    money_per_usd=EUR_PER_USD,
    land_use=LAND_USE,
    kinds=KINDS,
    other_kind="Otros",
    district_names=BARRIOS,
    boundary_name="Madrid (ejemplo)",
    files={
        "parcels": "Predios",
        "streets": "Ejes_Viales",
        "facilities": "Equipamientos",
        "districts": "Barrios",
        "boundary": "Limite_Municipal",
    },
    parcel_fields={
        "id": "Referencia_Catastral",
        "land_use": "Uso_Suelo",
        "floor_area": "Superficie_Construida",
        "housing_units": "Viviendas",
        "land_value": "Valor_Suelo",
    },
    street_fields={
        "name": "Nombre_Via",
        "from_node": "Nodo_Inicio",
        "to_node": "Nodo_Fin",
        "direction": "Sentido",
        "road_class": "Jerarquia",
    },
    facility_fields={"name": "Nombre", "kind": "Tipo"},
    area_fields={"name": "Nombre", "code": "Codigo"},
    facility_name=lambda kind, i: f"{kind} {i}",
)


def build(folder: Path) -> Path:
    """Write the city's files into ``folder`` (created); returns the folder."""
    return moved_city.build(folder, SPEC)


if __name__ == "__main__":  # python tests/spanish_city.py OUT_FOLDER
    import sys

    out = build(Path(sys.argv[1]))
    print(moved_city.summary(out).to_string(index=False))
