"""Column mapping: headers that map by themselves, --map, mapping files, and clear errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from context_service.sheets.columns import (
    ColumnMapping,
    ColumnMappingError,
    auto_field,
    load_mapping_file,
    normalize_header,
    parse_map_options,
    plan_header,
)

Write = Callable[[str, str | bytes], Path]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("email", "email"),
        ("E-mail", "email"),
        (" Email Address ", "email"),
        ("First Name", "first_name"),
        ("LAST_NAME", "last_name"),
        ("Surname", "last_name"),
        ("Phone Number", "phone"),
        ("Zip Code", "postcode"),
        ("Company", "company"),
        ("ID", "external_id"),
        ("Order #", "order_number"),
        ("Order Total", "order_total"),
        ("Plan Status", "plan_status"),
        ("Date of Birth", "birth_date"),
        ("DOB", "birth_date"),
        ("Birthday", "birth_date"),
        ("Favourite colour", None),
    ],
)
def test_headers_map_by_themselves(header: str, field: str | None) -> None:
    assert auto_field(header) == field


def test_normalize_header() -> None:
    assert normalize_header("  E-Mail  (work) ") == "e_mail_work"


def test_map_options_override_and_ignore() -> None:
    mapping = parse_map_options(["Kundennummer=external_id", "Email=-", "a=b=phone"])
    assert mapping.explicit == {"Kundennummer": "external_id", "Email": None, "a=b": "phone"}
    assert mapping.field_for("Kundennummer") == "external_id"
    assert mapping.field_for("Email") is None
    assert mapping.field_for("Phone") == "phone"  # not named: maps by itself


def test_unknown_field_is_an_error_that_lists_the_fields() -> None:
    with pytest.raises(ColumnMappingError) as caught:
        parse_map_options(["Mail=emial"])
    assert "unknown field 'emial'" in caught.value.detail
    assert "email" in caught.value.detail
    assert "order_number" in caught.value.detail


@pytest.mark.parametrize("option", ["email", "=email"])
def test_malformed_map_option(option: str) -> None:
    with pytest.raises(ColumnMappingError, match="COLUMN=FIELD"):
        parse_map_options([option])


def test_toml_mapping_file(write: Write) -> None:
    path = write("map.toml", '[columns]\n"E-Mail Adresse" = "email"\n"Notizen" = "-"\n')
    assert load_mapping_file(path).explicit == {"E-Mail Adresse": "email", "Notizen": None}


def test_json_mapping_file_and_merge_order(write: Write) -> None:
    path = write("map.json", '{"Mobil": "phone", "Firma": "company"}')
    merged = load_mapping_file(path).merged(parse_map_options(["Firma=-"]))
    assert merged.explicit == {"Mobil": "phone", "Firma": None}


def test_mapping_file_with_unknown_field(write: Write) -> None:
    path = write("map.toml", 'Mobil = "handy"\n')
    with pytest.raises(ColumnMappingError, match="unknown field 'handy'"):
        load_mapping_file(path)


def test_mapping_file_that_is_not_valid(write: Write, tmp_path: Path) -> None:
    with pytest.raises(ColumnMappingError, match="not valid"):
        load_mapping_file(write("map.toml", "this is = = not toml"))
    with pytest.raises(ColumnMappingError, match="cannot read"):
        load_mapping_file(tmp_path / "missing.toml")


def test_plan_reports_ignored_columns_but_not_those_ignored_on_purpose() -> None:
    mapping = parse_map_options(["Notes=-"])
    plan = plan_header(["Email", "Notes", "Colour", ""], mapping)
    assert plan.fields == ["email", None, None, None]
    assert plan.ignored == ["Colour"]


def test_plan_rejects_a_map_entry_for_a_missing_column() -> None:
    with pytest.raises(ColumnMappingError, match="does not have: Telefon"):
        plan_header(["Email"], parse_map_options(["Telefon=phone"]))


def test_plan_rejects_two_columns_for_one_single_valued_field() -> None:
    with pytest.raises(ColumnMappingError, match="both map to 'name'"):
        plan_header(["Name", "Full Name"], ColumnMapping())


def test_several_columns_may_feed_emails_and_phones() -> None:
    plan = plan_header(["Phone", "Mobile", "Email", "E-mail"], ColumnMapping())
    assert plan.fields == ["phone", "phone", "email", "email"]


def test_plan_names_blank_header_columns_by_position() -> None:
    plan = plan_header(["Email", " ", "Name"], ColumnMapping())
    assert plan.unnamed == [1]
    with pytest.raises(ColumnMappingError, match=r"columns are: Email, \(column 2, no header\)"):
        plan_header(["Email", ""], parse_map_options(["Tel=phone"]))


def test_two_columns_with_the_same_header_are_told_to_be_renamed_not_mapped() -> None:
    with pytest.raises(ColumnMappingError) as caught:
        plan_header(["email", "Name", "Name "], ColumnMapping())
    assert caught.value.detail == (
        "columns 2 and 3 are both named 'Name' and both map to 'name'; a mapping names "
        "columns by their header, so it cannot tell them apart: rename one of them in the "
        "file's header row (or ignore both with --map 'Name'=-)"
    )
