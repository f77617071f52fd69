"""A file updates the fields it has columns for (session 31): an export whose email column was
renamed, or a file of phones alone keyed by ``external_id``, keeps each stored row's email
instead of storing the row without it; a blank cell in a column the file has still clears its
field; rows keyed by a hash keep nothing; the report names what was kept."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from context_service.store import Store
from tests.sheets.helpers import Importer, profile_versions, snapshot_for

FIRST = (
    "external_id,email,first_name,last_name,phone,city\n"
    "A1,ann@example.com,Ann,Lee,+14155550100,Boston\n"
    "A2,bo@example.com,Bo,Ng,+14155550101,Denver\n"
)


def test_a_renamed_email_column_keeps_the_stored_emails(
    import_sheet: Importer, write: Callable[[str, str], Path], store: Store
) -> None:
    import_sheet(write("first.csv", FIRST))
    renamed = write(
        "renamed.csv", "external_id,Contact mail,phone\nA1,ann@example.com,+14155550199\n"
    )
    report = import_sheet(renamed)
    assert report.ignored_columns == ["Contact mail"]
    assert report.kept_fields == {"email": 1, "first_name": 1, "last_name": 1, "city": 1}
    snapshot = snapshot_for(store, "ann@example.com")
    assert snapshot.identity.emails == ["ann@example.com"]
    assert snapshot.identity.name == "Ann Lee"
    assert "+14155550199" in snapshot.identity.phones  # the column it has is updated
    versions = profile_versions(store)
    again = import_sheet(renamed)
    assert again.records.unchanged == 1
    assert profile_versions(store) == versions


def test_a_blank_cell_in_a_column_the_file_has_clears_its_field(
    import_sheet: Importer, write: Callable[[str, str], Path], store: Store
) -> None:
    import_sheet(write("first.csv", FIRST))
    report = import_sheet(write("phones.csv", "external_id,email,phone\nA2,bo@example.com,\n"))
    assert report.kept_fields == {"first_name": 1, "last_name": 1, "city": 1}
    snapshot = snapshot_for(store, "bo@example.com")
    assert snapshot.identity.phones == []
    assert snapshot.identity.name == "Bo Ng"


def test_any_name_column_replaces_the_whole_stored_name(
    import_sheet: Importer, write: Callable[[str, str], Path], store: Store
) -> None:
    import_sheet(write("first.csv", FIRST))
    report = import_sheet(write("names.csv", "external_id,name\nA1,Ann Marie Lee\n"))
    assert "first_name" not in report.kept_fields
    assert "name" not in report.kept_fields
    assert snapshot_for(store, "ann@example.com").identity.name == "Ann Marie Lee"


def test_rows_keyed_by_their_content_keep_nothing(
    import_sheet: Importer, write: Callable[[str, str], Path]
) -> None:
    import_sheet(write("first.csv", "email,first_name\nann@example.com,Ann\n"))
    report = import_sheet(write("second.csv", "email,phone\nann@example.com,+14155550100\n"))
    assert report.kept_fields == {}
    assert report.records.inserted == 1


def test_a_first_import_of_new_ids_keeps_nothing(
    import_sheet: Importer, write: Callable[[str, str], Path]
) -> None:
    report = import_sheet(write("first.csv", "external_id,email\nZ9,zed@example.com\n"))
    assert report.kept_fields == {}
    assert report.records.inserted == 1
