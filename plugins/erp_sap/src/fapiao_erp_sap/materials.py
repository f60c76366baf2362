"""The user's mapping table: SAP Material → 税收分类编码, plus units and SAP tax codes.

SAP holds no Chinese tax classification code on a billing item, and the Golden Tax add-on's
tables are not exposed by the public APIs, so the mapping is the customer's to maintain. It is
read once per connector; a malformed file is a configuration error that names the file and the
row or key, never a crash in the middle of a sync.
"""

from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path
from typing import Any

from fapiao.sdk import ConfigError, TaxTreatment

__all__ = ["MappingTable", "MaterialEntry", "TaxCodeRule"]

_TAX_CODE_RE = re.compile(r"^\d{19}$")
_MATERIAL_FIELDS = (
    "tax_code",
    "name",
    "spec",
    "unit",
    "tax_rate",
    "treatment",
    "preferential_policy",
)


@dataclass(frozen=True)
class MaterialEntry:
    """How one SAP material appears on a 数电票 line."""

    material: str
    tax_code: str
    name: str | None = None
    spec: str | None = None
    unit: str | None = None
    tax_rate: Decimal | None = None
    treatment: TaxTreatment | None = None
    preferential_policy: str | None = None


@dataclass(frozen=True)
class TaxCodeRule:
    """What an SAP output tax code (TaxCode of the tax pricing element) means in 数电 terms."""

    rate: Decimal | None = None
    treatment: TaxTreatment = TaxTreatment.TAXABLE
    preferential_policy: str | None = None


@dataclass(frozen=True)
class MappingTable:
    source: str
    materials: dict[str, MaterialEntry] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    tax_codes: dict[str, TaxCodeRule] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.materials)

    def material(self, code: str | None) -> MaterialEntry | None:
        if not code:
            return None
        # SAP shows material numbers with or without leading zeros (conversion exit MATN1).
        return self.materials.get(code) or self._unpadded.get(code.lstrip("0"))

    @cached_property
    def _unpadded(self) -> dict[str, MaterialEntry]:
        return {k.lstrip("0"): v for k, v in self.materials.items()}

    def unit(self, sap_unit: str | None) -> str | None:
        if not sap_unit:
            return None
        return self.units.get(sap_unit, sap_unit)

    @classmethod
    def load(cls, path: Path | str) -> MappingTable:
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise _config(
                path, f"cannot read: {exc.strerror}", f"无法读取：{exc.strerror}"
            ) from exc
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _config(path, "is not UTF-8", "不是 UTF-8 编码") from exc
        if path.suffix.lower() == ".csv":
            return cls._from_csv(path, text)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise _config(path, f"is not valid TOML: {exc}", f"不是合法的 TOML：{exc}") from exc
        return cls._from_toml(path, data)

    @classmethod
    def _from_toml(cls, path: Path, data: dict[str, Any]) -> MappingTable:
        unknown = set(data) - {"materials", "units", "tax_codes"}
        if unknown:
            names = ", ".join(sorted(unknown))
            raise _config(path, f"unknown table(s) {names}", f"未知的表 {names}")
        materials: dict[str, MaterialEntry] = {}
        for material, row in _table(path, data, "materials").items():
            where = f"[materials.{material!r}]"
            if not isinstance(row, dict):
                raise _config(path, f"{where} must be a table", f"{where} 必须是表")
            materials[str(material)] = _material(path, where, str(material), row)
        units: dict[str, str] = {}
        for unit, label in _table(path, data, "units").items():
            if not isinstance(label, str) or not label.strip():
                where = f"[units] {unit}"
                raise _config(
                    path, f"{where} must be a non-empty string", f"{where} 必须是非空字符串"
                )
            units[str(unit)] = label.strip()
        tax_codes: dict[str, TaxCodeRule] = {}
        for code, row in _table(path, data, "tax_codes").items():
            where = f"[tax_codes] {code}"
            if not isinstance(row, dict):
                raise _config(path, f"{where} must be a table", f"{where} 必须是表")
            extra = set(row) - {"rate", "treatment", "preferential_policy"}
            if extra:
                names = ", ".join(sorted(extra))
                raise _config(
                    path, f"{where}: unknown key(s) {names}", f"{where}：未知字段 {names}"
                )
            tax_codes[str(code)] = TaxCodeRule(
                rate=_rate(path, where, row.get("rate")),
                treatment=_treatment(path, where, row.get("treatment")) or TaxTreatment.TAXABLE,
                preferential_policy=_text(row.get("preferential_policy")),
            )
        return cls(str(path), materials, units, tax_codes)

    @classmethod
    def _from_csv(cls, path: Path, text: str) -> MappingTable:
        reader = csv.DictReader(text.splitlines())
        header = reader.fieldnames or []
        if "material" not in header or "tax_code" not in header:
            raise _config(
                path,
                "CSV needs a header with at least 'material' and 'tax_code'",
                "CSV 表头至少需要 material 与 tax_code 两列",
            )
        extra = set(header) - {"material", *_MATERIAL_FIELDS}
        if extra:
            names = ", ".join(sorted(extra))
            raise _config(path, f"unknown column(s) {names}", f"未知列 {names}")
        materials: dict[str, MaterialEntry] = {}
        for number, row in enumerate(reader, start=2):
            material = (row.get("material") or "").strip()
            where = f"line {number}"
            if not material:
                raise _config(path, f"{where}: empty material", f"第 {number} 行：物料号为空")
            if material in materials:
                raise _config(
                    path,
                    f"{where}: material {material} listed twice",
                    f"第 {number} 行：物料 {material} 重复",
                )
            values = {k: v for k, v in row.items() if k != "material" and v not in (None, "")}
            materials[material] = _material(path, where, material, values)
        return cls(str(path), materials)


def _config(path: Path, en: str, zh: str) -> ConfigError:
    return ConfigError(
        f"material mapping {path}: {en}", message_zh=f"物料映射文件 {path}：{zh}", field=str(path)
    )


def _table(path: Path, data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise _config(path, f"[{name}] must be a table", f"[{name}] 必须是表")
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _rate(path: Path, where: str, value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        raise _config(
            path,
            f'{where}: write the rate as a string, e.g. "0.13", not {value!r}',
            f'{where}：税率须写成字符串，如 "0.13"，不能写 {value!r}',
        )
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        raise _config(
            path, f"{where}: bad rate {value!r}", f"{where}：税率 {value!r} 无效"
        ) from None
    if not Decimal(0) <= rate < Decimal(1):
        raise _config(
            path,
            f"{where}: rate {value!r} must be a fraction such as 0.13",
            f"{where}：税率 {value!r} 须为小数，如 0.13",
        )
    return rate


def _treatment(path: Path, where: str, value: Any) -> TaxTreatment | None:
    if value in (None, ""):
        return None
    try:
        return TaxTreatment(str(value).strip())
    except ValueError:
        allowed = ", ".join(t.value for t in TaxTreatment)
        raise _config(
            path,
            f"{where}: treatment {value!r} is not one of {allowed}",
            f"{where}：征税方式 {value!r} 不在 {allowed} 之中",
        ) from None


def _material(path: Path, where: str, material: str, row: dict[str, Any]) -> MaterialEntry:
    extra = set(row) - set(_MATERIAL_FIELDS)
    if extra:
        names = ", ".join(sorted(extra))
        raise _config(path, f"{where}: unknown key(s) {names}", f"{where}：未知字段 {names}")
    tax_code = _text(row.get("tax_code")) or ""
    if not _TAX_CODE_RE.match(tax_code):
        raise _config(
            path,
            f"{where}: tax_code of material {material} must be 19 digits, got {tax_code!r}",
            f"{where}：物料 {material} 的税收分类编码须为 19 位数字，实为 {tax_code!r}",
        )
    return MaterialEntry(
        material=material,
        tax_code=tax_code,
        name=_text(row.get("name")),
        spec=_text(row.get("spec")),
        unit=_text(row.get("unit")),
        tax_rate=_rate(path, where, row.get("tax_rate")),
        treatment=_treatment(path, where, row.get("treatment")),
        preferential_policy=_text(row.get("preferential_policy")),
    )
