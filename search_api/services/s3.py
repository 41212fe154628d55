"""S3Proxy as a local S3 endpoint, storing objects as plain files in the state folder.

S3Proxy 4.x needs Java 17 (its classes are version 61) and no longer bundles jclouds: its own
`filesystem-nio2` backend keeps each object as a file under `<bucket>/<key>` and its metadata
(content type, MD5, user metadata) in `user.*` extended attributes, so the folder must be on a file
system with xattrs (ext4, xfs, btrfs; not every tmpfs or network share).
"""

from __future__ import annotations

import urllib.request

from search_api.services.base import JarService
from search_api.services.maven import fetch, require_java

VERSION = "4.1.0"
COORDINATES = f"org.gaul:s3proxy:{VERSION}:jar:jar-with-dependencies"


class S3Service(JarService):
    name = "s3"
    jar_name = f"s3proxy-{VERSION}-jar-with-dependencies.jar"

    @property
    def port(self) -> int:
        return self.settings.port_of(self.settings.s3_endpoint)

    def provision(self) -> None:
        require_java()
        fetch(COORDINATES, self.jar.parent)
        (self.state / "data").mkdir(exist_ok=True)
        key, secret = self.settings.s3_access_key, self.settings.s3_secret_key.get_secret_value()
        config = self.state / "s3proxy.conf"
        config.write_text(
            f"s3proxy.endpoint=http://127.0.0.1:{self.port}\n"
            # Clients sign with v4 (minio, boto3) or v2 (older tools); accept both.
            "s3proxy.authorization=aws-v2-or-v4\n"
            f"s3proxy.identity={key}\n"
            f"s3proxy.credential={secret}\n"
            "jclouds.provider=filesystem-nio2\n"
            # The backend's own credentials are unused for files, but S3Proxy requires them.
            f"jclouds.identity={key}\n"
            f"jclouds.credential={secret}\n"
            f"jclouds.filesystem.basedir={self.state / 'data'}\n"
        )
        config.chmod(0o600)  # it holds the secret key

    def command(self) -> list[str]:
        # It streams objects to disk and keeps little in memory.
        config = self.state / "s3proxy.conf"
        return [require_java(), "-Xmx256m", "-jar", str(self.jar), "--properties", str(config)]

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False
