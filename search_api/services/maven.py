"""Fetch artifacts from Maven Central through `mvn`, into the download cache."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from search_api.services.base import ServiceError


def require_tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ServiceError(f"`{name}` is not installed; {hint}")
    return path


def require_java() -> str:
    return require_tool("java", "install Java 17 (Debian: apt-get install openjdk-17-jre-headless)")


def fetch(coordinates: str, dest_dir: Path) -> Path:
    """Copy `group:artifact:version[:packaging[:classifier]]` into dest_dir once; return the file."""
    parts = coordinates.split(":")
    group, artifact, version = parts[:3]
    packaging = parts[3] if len(parts) > 3 else "jar"
    classifier = parts[4] if len(parts) > 4 else ""
    name = f"{artifact}-{version}{'-' + classifier if classifier else ''}.{packaging}"
    target = dest_dir / name
    if target.exists():
        return target
    dest_dir.mkdir(parents=True, exist_ok=True)
    mvn = require_tool("mvn", "install Maven (Debian: apt-get install maven)")
    artifact_spec = f"{group}:{artifact}:{version}:{packaging}" + (f":{classifier}" if classifier else "")
    # Plugin 3.x reads the artifact's POM chain; some artifacts (Tika's server jars) name a parent POM
    # the registry does not serve. Plugin 2.8 copies the file without reading any POM: the fallback.
    for plugin in ("3.6.1", "2.8"):
        result = subprocess.run(
            [
                mvn,
                "-q",
                "-B",
                f"org.apache.maven.plugins:maven-dependency-plugin:{plugin}:copy",
                f"-Dartifact={artifact_spec}",
                f"-DoutputDirectory={dest_dir}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode == 0 and target.exists():
            return target
    if not target.exists():
        tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
        raise ServiceError(f"could not fetch {coordinates} from Maven Central: {' | '.join(tail)}")
    return target
