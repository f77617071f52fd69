"""``resolve --all --train``: the model is estimated from the store and saved, then every
cluster is resolved again under it, in one transaction."""

from __future__ import annotations

from pathlib import Path

from context_service.identity.state import load_model
from context_service.settings import load_settings
from context_service.store import Store
from context_service.sync.rebuild import resolve_all
from context_service.wiring import ingest_context
from tests.conftest import copy_store


def test_training_saves_a_model_estimated_from_every_person_record(
    demo_db: Path, tmp_path: Path
) -> None:
    store = Store(copy_store(demo_db, tmp_path / "copy.db"))
    try:
        before = load_model(store.conn)
        report = resolve_all(store, ingest_context(load_settings(environ={})), retrain=True)
        assert report.training is not None
        assert report.training.records == report.records > 500  # the demo store's people
        assert report.training.blocked_pairs > 0
        saved = load_model(store.conn)
        assert saved == report.training.model
        assert saved.trained_on == report.records
        assert saved != before
        again = resolve_all(store, ingest_context(load_settings(environ={})))
        assert again.training is None
        assert again.profiles_changed == 0  # the rebuild under the new model was complete
    finally:
        store.close()
