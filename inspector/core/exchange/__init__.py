"""Moving captures in and out: NDJSON, HAR and CSV export; NDJSON and HAR import."""

from inspector.core.exchange.export import EXPORT_FORMATS, ExportSummary, export_events
from inspector.core.exchange.importer import ImportSummary, import_file

__all__ = ["EXPORT_FORMATS", "ExportSummary", "ImportSummary", "export_events", "import_file"]
