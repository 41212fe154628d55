"""Templates and static files of the web interface (htmx vendored, no CDN at run time)."""

from pathlib import Path

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
