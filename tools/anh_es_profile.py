"""Generate the Spanish ANH report profiles from their English sources (``anh-es-1.0`` from
``idp-1.2``, ``anh-es-1.1`` from ``idp-1.3``, ``anh-es-1.2`` from ``idp-1.4``): same content,
field names in the ANH's Spanish nomenclature.

A profile maps a report with its source's template, then renames every key of the document by
its ``field_names`` (:data:`NAMES`, plus :data:`ADDED` from the version that added each name);
its JSON Schema is the source's with every property name renamed the same way
(``schema_version`` and ``profile`` stay: they tell a verifier which profile a document is).
``docs/anh-profile.md`` lists the mapping. A property of the schema the mapping lacks is
refused, so a field added to an English profile cannot slip into the Spanish profile in
English; two names mapped to one are refused too.

    python tools/anh_es_profile.py            # writes reports/schemas/anh-es-1.*.json
    python tools/anh_es_profile.py --check    # exit 1 when the committed files are stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "src" / "anh_reporter" / "reports" / "schemas"
PAIRS = (("idp-1.2", "anh-es-1.0"), ("idp-1.3", "anh-es-1.1"), ("idp-1.4", "anh-es-1.2"))
"""(English source, Spanish profile), oldest first."""

NAMES: dict[str, str] = {
    # document, header, operator, field, contract day
    "report": "informe", "id": "id", "type": "tipo", "version": "version",
    "amends": "enmienda_de", "generated_at": "generado_en", "generated_by": "generado_por",
    "sha256": "sha256", "reason": "motivo", "reason_code": "codigo_motivo",
    "changes": "cambios", "requested_by": "solicitado_por", "approved_by": "aprobado_por",
    "operator": "operadora", "nit": "nit", "name": "nombre", "field": "campo",
    "code": "codigo", "contract": "contrato", "municipality_dane": "municipio_dane",
    "timezone": "zona_horaria", "start_hour": "hora_inicio", "contract_day": "dia_operacional",
    "date": "fecha", "start": "inicio", "end": "fin", "software": "software",
    # PMOs (puntos de medición oficial) and their volumes
    "pmos": "puntos_medicion", "pmo": "pmo", "kind": "fluido", "meter_type": "tipo_medidor",
    "method": "metodo", "level": "nivel", "oil_gross_bbl": "crudo_bruto_bls",
    "oil_net_bbl": "crudo_neto_bls", "water_gross_bbl": "agua_bruta_bls",
    "water_net_bbl": "agua_neta_bls", "gas_kpc": "gas_kpc",
    "indicated_volume": "volumen_indicado", "gross_observed_volume": "volumen_bruto_observado",
    "gross_standard_volume": "volumen_bruto_estandar",
    "net_standard_volume": "volumen_neto_estandar", "volume_unit": "unidad_volumen",
    "volume_basis": "base_volumen", "meter_factor": "factor_medidor", "bsw_pct": "bsw_pct",
    "api_gravity": "gravedad_api", "api_gravity_observed": "gravedad_api_observada",
    "ctl": "ctl", "cpl": "cpl", "ctpl": "ctpl", "ccf": "ccf", "csw": "csw",
    "temperature_f": "temperatura_f", "pressure_psig": "presion_psig",
    "pressure_psia": "presion_psia", "sources": "fuentes", "issues": "observaciones",
    "quality": "calidad", "completeness_pct": "completitud_pct",
    "flow_time_coverage_pct": "cobertura_tiempo_flujo_pct",
    "sample_completeness_pct": "completitud_muestras_pct",
    "samples_expected": "muestras_esperadas", "samples_received": "muestras_recibidas",
    "samples_good": "muestras_buenas", "longest_gap_s": "mayor_vacio_s", "score": "puntaje",
    "score_terms": "terminos_puntaje", "explanation": "explicacion", "rollovers": "desbordes",
    "resets": "reinicios", "backsteps": "retrocesos", "missing_s": "faltante_s",
    "unconfirmed_resets": "reinicios_sin_confirmar", "measured": "medido",
    "estimated": "estimado", "estimated_share_pct": "porcentaje_estimado_pct",
    "estimates": "estimaciones", "manual_volume": "volumen_manual",
    "telemetry_volume": "volumen_telemetria", "replaced": "reemplazado",
    "window_start": "ventana_inicio", "window_end": "ventana_fin", "events": "eventos",
    "needs_confirmation": "requiere_confirmacion", "confirmed": "confirmado",
    "before": "antes", "after": "despues", "before_value": "valor_antes",
    "after_value": "valor_despues", "detail": "detalle", "details": "detalles",
    "fallbacks": "respaldos", "negative_clipped": "negativos_recortados",
    "low_flow_zeroed": "bajo_flujo_anulado", "gas_base": "base_gas",
    "conversion": "conversion", "water_correction": "correccion_agua",
    "uncertainty": "incertidumbre", "budget": "presupuesto", "expanded": "expandida",
    "expanded_pct": "expandida_pct", "coverage_factor": "factor_cobertura",
    "proving": "calibracion", "proved_at": "calibrado_en", "proved_by": "calibrado_por",
    "run_reference": "referencia_corrida", "effective_from": "vigente_desde",
    "previous_factor": "factor_anterior", "approvals": "aprobaciones",
    "decided_by": "decidido_por", "decided_at": "decidido_en", "target": "objetivo",
    "value": "valor", "unit": "unidad", "reference": "referencia",
    "property_coverage_pct": "cobertura_propiedades_pct",
    # totals, quality, anomalies, manual entries
    "totals": "totales", "data_quality": "calidad_datos", "anomalies": "anomalias",
    "manual_entries": "registros_manuales", "manual_entry_ids": "ids_registros_manuales",
    "entered_by": "registrado_por", "entered_at": "registrado_en",
    # wells (pozos), facilities, balances, allocation
    "wells": "pozos", "production_method": "metodo_produccion", "facility": "facilidad",
    "facilities": "facilidades", "status": "estado", "hours_on": "horas_produccion",
    "hours_source": "fuente_horas", "test": "prueba", "age_days": "antiguedad_dias",
    "state": "condicion", "oil_bbl": "crudo_bls", "water_bbl": "agua_bls",
    "gor_scf_bbl": "rgp_pcs_bl", "wor": "rap", "factors": "factores", "oil": "crudo",
    "gas": "gas", "water": "agua", "theoretical_oil_bbl": "crudo_teorico_bls",
    "hours_down": "horas_paro", "deferred": "diferida", "causes": "causas",
    "allocation": "asignacion", "findings": "hallazgos", "balances": "balances",
    "totals_by_role": "totales_por_rol", "basis": "base", "volume": "volumen",
    "closes": "cierra", "produced": "producido", "residual": "residuo",
    "tolerance": "tolerancia", "terms": "terminos", "fluid": "tipo_fluido",
    "at": "en", "message": "mensaje", "severity": "severidad", "figure": "cifra",
    "old": "anterior", "new": "nuevo", "contribution": "contribucion",
    "quantity": "magnitud", "share_pct": "participacion_pct",
    "standard_uncertainty": "incertidumbre_estandar",
    "coverage_points": "puntos_cobertura", "gap_points": "puntos_vacios",
    "good_ratio_points": "puntos_buenas", "reset_penalty": "penalizacion_reinicios",
    "rollover_penalty": "penalizacion_desbordes",
    "completeness_threshold_pct": "umbral_completitud_pct",
    "lowest_quality_pmo": "pmo_menor_calidad", "mean_quality_score": "puntaje_calidad_medio",
    "min_completeness_pct": "completitud_minima_pct",
    "pmos_below_threshold": "pmo_bajo_umbral", "pmos_from_telemetry": "pmo_por_telemetria",
    "pmos_manual": "pmo_manuales",
}  # fmt: skip
"""Field name (idp-1.2) → nombre de campo (anh-es-1.0)."""

ADDED: dict[str, dict[str, str]] = {
    "anh-es-1.1": {"avm_code": "codigo_avm"},
    # idp-1.4 types what 1.3 left as bare objects: their keys get Spanish names too.
    "anh-es-1.2": {
        # each production PMO's allocation (API MPMS 20.1) and the field totals by role
        "theoretical_total": "total_teorico", "factor": "factor_asignacion",
        "allocated_total": "total_asignado", "unallocated": "sin_asignar",
        "role": "rol", "total": "total",
        # a well's deferred production, per downtime cause
        "cause": "causa",
        # the custody properties a PMO's sources and property coverage name
        "temperature": "temperatura", "pressure": "presion", "bsw": "bsw",
        # a balance's terms whose volume is only partly known (a tank's stock, a meter's day)
        "incomplete_terms": "terminos_incompletos",
    },
}  # fmt: skip
"""The names each later Spanish profile adds (a published profile's mapping never changes)."""


def names_of(name: str) -> dict[str, str]:
    """The field names of Spanish profile ``name``: :data:`NAMES` and every addition up to it."""
    out = dict(NAMES)
    for _, spanish in PAIRS:
        out |= ADDED.get(spanish, {})
        if spanish == name:
            return out
    raise SystemExit(f"unknown Spanish profile {name!r}")


KEEP = frozenset({"schema_version", "profile"})


def _name(key: str, where: str, names: dict[str, str]) -> str:
    if key in KEEP or key.startswith("$"):
        return key
    if key not in names:
        raise SystemExit(f"{where}: field {key!r} has no Spanish name in tools/anh_es_profile.py")
    return names[key]


def _schema(node: Any, where: str, names: dict[str, str]) -> Any:
    """Rename the names in ``properties``, ``required`` and ``propertyNames`` of every schema."""
    if isinstance(node, list):
        return [_schema(v, where, names) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for k, v in node.items():
        if k == "properties" and isinstance(v, dict):
            out[k] = {
                _name(p, where, names): _schema(s, f"{where}.{p}", names) for p, s in v.items()
            }
        elif k == "required" and isinstance(v, list):
            out[k] = [_name(p, where, names) for p in v]
        elif k == "propertyNames" and isinstance(v, dict) and "enum" in v:
            out[k] = v | {"enum": [_name(p, where, names) for p in v["enum"]]}
        else:
            out[k] = _schema(v, f"{where}.{k}", names)
    return out


def generate() -> dict[str, str]:
    """The files (name → text) of every Spanish profile."""
    out: dict[str, str] = {}
    for source, name in PAIRS:
        out |= _generate(source, name)
    return out


def _generate(source: str, name: str) -> dict[str, str]:
    """The two files (name → text) of the Spanish profile ``name`` made from ``source``."""
    names = names_of(name)
    profile = json.loads((SCHEMAS / f"{source}.profile.json").read_text(encoding="utf-8"))
    schema = json.loads((SCHEMAS / f"{source}.schema.json").read_text(encoding="utf-8"))
    document = dict(profile["document"])
    document["profile"] = {"$const": name}
    duplicated = {v for v in names.values() if list(names.values()).count(v) > 1}
    if duplicated:
        raise SystemExit(f"two fields share the Spanish name(s) {sorted(duplicated)}")
    spanish_schema = _schema(schema, "schema", names)
    spanish_schema["$id"] = f"https://anh-reporter.example/schemas/{name}.schema.json"
    version = name.removeprefix("anh-es-")
    title = f"Informe Diario de Producción (IDP) — perfil ANH en español {version}"
    spanish_schema["title"] = title
    spanish_schema["properties"]["profile"] = {"const": name}
    out_profile = {
        "name": name,
        "schema": f"{name}.schema.json",
        "description": f"The {source} content with its field names in the ANH's Spanish "
        "nomenclature (docs/anh-profile.md lists the mapping); generated by "
        "tools/anh_es_profile.py.",
        "field_names": dict(sorted(names.items())),
        "document": document,
    }
    return {
        f"{name}.profile.json": json.dumps(out_profile, ensure_ascii=False, indent=2) + "\n",
        f"{name}.schema.json": json.dumps(spanish_schema, ensure_ascii=False, indent=2) + "\n",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="Fail when the files are stale")
    args = parser.parse_args()
    stale = []
    for name, text in generate().items():
        path = SCHEMAS / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"stale: {', '.join(stale)}: run python tools/anh_es_profile.py", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
