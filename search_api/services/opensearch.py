"""OpenSearch 2.19 as a local service, assembled from Maven Central alone.

Maven Central has no full OpenSearch distribution, only the `integ-test-zip` one (server + transport
module), and no zips of the core plugins. Their classes are published as jars, so we lay out the
`modules/<name>/` and `plugins/<name>/` folders ourselves. The assembled home is built once per machine in
the download cache; each checkout keeps its own config, data and logs in its state folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import NamedTuple

from search_api.services.base import ProcessService, ServiceError
from search_api.services.maven import fetch, require_java, require_tool

VERSION = "2.19.6"
LUCENE = "9.12.3"  # the Lucene in the distribution's lib/; plugin jars must match it
TRANSPORT_PORT = 47300
SERVICE_USER = "speurder"

# Policies as upstream ships them with the modules: without them the security manager refuses the calls.
PAINLESS_POLICY = """grant {
  // painless compiles scripts into classes of its own class loader
  permission java.lang.RuntimePermission "createClassLoader";
  permission java.lang.RuntimePermission "getClassLoader";
};
"""
MUSTACHE_POLICY = """grant {
  // mustache.java reflects over the objects it renders
  permission java.lang.RuntimePermission "accessDeclaredMembers";
};
"""
REINDEX_POLICY = """grant {
  // reindex-from-remote opens sockets through the REST client
  permission java.net.SocketPermission "*", "connect";
};
grant codeBase "${codebase.opensearch-rest-client}" {
  permission java.net.NetPermission "getProxySelector";
};
grant codeBase "${codebase.httpasyncclient}" {
  permission java.net.NetPermission "getProxySelector";
};
"""


class Bundle(NamedTuple):
    """A `modules/` or `plugins/` folder: the Maven coordinates of its jars and its descriptor's extras."""

    jars: tuple[str, ...]
    extends: str = ""
    policy: str = ""


def core(artifact: str, extends: str = "", policy: str = "") -> Bundle:
    """A bundle of one of OpenSearch's own jars, with the dependencies its POM names."""
    return Bundle((f"org.opensearch.plugin:{artifact}:{VERSION}",), extends, policy)


MODULES: dict[str, Bundle] = {
    # 2.x loads only the jars at the top of a folder (no spi/ sub-folder): the painless SPI jar sits beside
    # painless, and the modules that extend painless see it through painless' class loader.
    "lang-painless": core("lang-painless", policy=PAINLESS_POLICY),
    "analysis-common": core("analysis-common", extends="lang-painless"),  # adds to painless' API
    "ingest-common": core("ingest-common", extends="lang-painless"),
    "lang-mustache": core("lang-mustache-client", policy=MUSTACHE_POLICY),
    "reindex": core("reindex-client", policy=REINDEX_POLICY),
    "percolator": core("percolator-client"),
    "parent-join": core("parent-join-client"),
    "mapper-extras": core("mapper-extras-client"),
    "geo": core("geo"),  # geo_shape and the geo aggregations live here since 2.x
    "aggs-matrix-stats": core("aggs-matrix-stats-client"),
    "rank-eval": core("rank-eval-client"),
}
# Core plugin zips are not on Maven Central (OpenSearch issue #16656).
PLUGINS: dict[str, Bundle] = {
    # ICU's plugin classes are published as its "client" jar, last for 2.16.0; they run on 2.19 when
    # given the Lucene ICU module and ICU4J that go with 2.19's Lucene.
    "analysis-icu": Bundle(
        (
            "org.opensearch.plugin:analysis-icu-client:2.16.0",
            f"org.apache.lucene:lucene-analysis-icu:{LUCENE}",
            "com.ibm.icu:icu4j:74.2",
        )
    ),
    # No phonetic plugin classes are published at all: PHONETIC_SOURCE is compiled against lib/ instead.
    "analysis-phonetic": Bundle((f"org.apache.lucene:lucene-analysis-phonetic:{LUCENE}",)),
}

# The `phonetic` token filter with the setting names of upstream's analysis-phonetic plugin
# (encoder, replace, max_code_len, rule_type, name_type, languageset), on Lucene's phonetic filters.
PHONETIC_SOURCE = """package speurder.opensearch;
import java.util.*; import java.util.function.UnaryOperator;
import org.apache.commons.codec.Encoder; import org.apache.commons.codec.language.*;
import org.apache.commons.codec.language.bm.*; import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.phonetic.*; import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment; import org.opensearch.index.IndexSettings;
import org.opensearch.index.analysis.*; import org.opensearch.plugins.*;
import org.opensearch.indices.analysis.AnalysisModule.AnalysisProvider;
public class PhoneticPlugin extends Plugin implements AnalysisPlugin {
  @Override public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
    return Map.of("phonetic", Factory::new);
  }
  static class Factory extends AbstractTokenFilterFactory {
    private final UnaryOperator<TokenStream> filter;
    Factory(IndexSettings index, Environment env, String name, Settings s) {
      super(index, name, s);
      boolean inject = !s.getAsBoolean("replace", true);
      String encoder = s.get("encoder", "metaphone").toLowerCase(Locale.ROOT);
      if (encoder.equals("double_metaphone")) {
        int max = s.getAsInt("max_code_len", 4);
        filter = in -> new DoubleMetaphoneFilter(in, max, inject);
      } else if (encoder.equals("beider_morse")) {
        PhoneticEngine engine = new PhoneticEngine(
          NameType.valueOf(s.get("name_type", "generic").toUpperCase(Locale.ROOT)),
          RuleType.valueOf(s.get("rule_type", "approx").toUpperCase(Locale.ROOT)), true);
        List<String> langs = s.getAsList("languageset");
        filter = in -> langs.isEmpty() ? new BeiderMorseFilter(in, engine)
          : new BeiderMorseFilter(in, engine, Languages.LanguageSet.from(new HashSet<>(langs)));
      } else if (encoder.equals("daitch_mokotoff")) {
        filter = in -> new DaitchMokotoffSoundexFilter(in, inject);
      } else {
        Encoder codec = codec(encoder);
        filter = in -> new PhoneticFilter(in, codec, inject);
      }
    }
    static Encoder codec(String name) {
      switch (name) {
        case "metaphone": return new Metaphone();
        case "soundex": return new Soundex();
        case "refined_soundex": return new RefinedSoundex();
        case "caverphone1": return new Caverphone1();
        case "caverphone2": return new Caverphone2();
        case "cologne": return new ColognePhonetic();
        case "nysiis": return new Nysiis();
        default: throw new IllegalArgumentException("unknown phonetic encoder [" + name + "]");
      }
    }
    @Override public TokenStream create(TokenStream in) { return filter.apply(in); }
  }
}
"""

POM = """<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local.speurder</groupId><artifactId>{name}</artifactId><version>0</version>
<packaging>pom</packaging>{body}</project>
"""
# The server and its libraries are already in lib/; excluding the server keeps its tree out of the folders.
DEPENDENCY = """<dependency><groupId>{0}</groupId><artifactId>{1}</artifactId><version>{2}</version>
<exclusions><exclusion><groupId>org.opensearch</groupId><artifactId>opensearch</artifactId></exclusion>
</exclusions></dependency>"""


def java_home() -> Path:
    """OpenSearch 2.19 runs on Java 11-21 and needs the security manager, which Java 24 removed."""
    candidates = sorted(Path("/usr/lib/jvm").glob("java-17-openjdk-*"))
    return candidates[0] if candidates else Path(require_java()).resolve().parent.parent


def unzip(archive: Path, dest: Path) -> None:
    """Extract keeping the Unix modes (zipfile drops them, and bin/ must stay executable)."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            path = Path(zf.extract(info, dest))
            if info.external_attr >> 16 and not info.is_dir():
                path.chmod(stat.S_IMODE(info.external_attr >> 16))


def plugin_class(folder: Path) -> str:
    """A bundle's entry point: the one top-level `*Plugin` class of OpenSearch's (or our) packages."""
    names = []
    for jar in folder.glob("*.jar"):
        with zipfile.ZipFile(jar) as zf:
            names += [
                n
                for n in zf.namelist()
                if n.endswith("Plugin.class")
                and "$" not in n
                and n.startswith(("org/opensearch/", "speurder/"))
            ]
    if len(names) != 1:
        raise ServiceError(f"opensearch: cannot tell the plugin class in {folder}: {names}")
    return names[0].removesuffix(".class").replace("/", ".")


class OpenSearchService(ProcessService):
    name = "opensearch"
    start_timeout = 180.0

    @property
    def port(self) -> int:
        return self.settings.port_of(self.settings.opensearch_url)

    @property
    def home(self) -> Path:
        # The name changes with the bundle list, so changing the list builds a fresh home.
        recipe = json.dumps([VERSION, MODULES, PLUGINS, PHONETIC_SOURCE]).encode()
        return self.ctx.cache_dir / f"opensearch-{VERSION}-{hashlib.sha256(recipe).hexdigest()[:10]}"

    @property
    def state(self) -> Path:
        return self.ctx.state_dir(self.name)

    # -- provisioning ---------------------------------------------------------------------------
    def provision(self) -> None:
        if not (self.home / "bin" / "opensearch").exists():
            self._build_home()
        self._write_config()
        if os.geteuid() == 0:
            self._prepare_service_user()

    def _build_home(self) -> None:
        """Assemble the distribution in a scratch folder, then rename it into place in one step."""
        self.ctx.cache_dir.mkdir(parents=True, exist_ok=True)
        dist = fetch(
            f"org.opensearch.distribution.integ-test-zip:opensearch:{VERSION}:zip",
            self.ctx.cache_dir / "downloads",
        )
        with tempfile.TemporaryDirectory(dir=self.ctx.cache_dir, prefix=".opensearch-build-") as tmp:
            unzip(dist, Path(tmp))
            home = Path(tmp) / f"opensearch-{VERSION}"
            self._add_bundles(home, Path(tmp) / "pom")
            # Everyone may read the home: the node runs as an unprivileged user when we are root.
            for path in [home, *home.rglob("*")]:
                path.chmod(path.stat().st_mode | 0o444 | (0o111 if path.is_dir() else 0))
            if not self.home.exists():  # another checkout may have finished first
                home.rename(self.home)

    def _add_bundles(self, home: Path, work: Path) -> None:
        """One throw-away Maven reactor, a sub-project per bundle, one `copy-dependencies` run."""
        bundles = {
            **{("modules", k): v for k, v in MODULES.items()},
            **{("plugins", k): v for k, v in PLUGINS.items()},
        }
        for (_, name), bundle in bundles.items():
            deps = "".join(DEPENDENCY.format(*jar.split(":")) for jar in bundle.jars)
            deps = f"<dependencies>{deps}</dependencies>"
            (work / name).mkdir(parents=True)
            (work / name / "pom.xml").write_text(POM.format(name=name, body=deps))
        modules = "".join(f"<module>{name}</module>" for _, name in bundles)
        (work / "pom.xml").write_text(POM.format(name="bundles", body=f"<modules>{modules}</modules>"))
        mvn = require_tool("mvn", "install Maven (Debian: apt-get install maven)")
        self._run(
            [
                mvn,
                "-q",
                "-B",
                "-f",
                str(work / "pom.xml"),
                "-DincludeScope=runtime",
                "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies",
            ]
        )
        in_lib = {jar.name for jar in (home / "lib").glob("*.jar")}
        for (kind, name), bundle in bundles.items():
            target = home / kind / name
            target.mkdir(parents=True)
            for jar in (work / name / "target" / "dependency").glob("*.jar"):
                if jar.name in in_lib:
                    continue  # a class twice on the class path is "jar hell" and stops the node
                shutil.move(jar, target / jar.name)
            if name == "analysis-phonetic":
                self._compile_phonetic(home, target, work / "phonetic")
            descriptor = {
                "description": f"{name}, assembled by Speurder from Maven Central",
                "version": VERSION,
                "name": name,
                "classname": plugin_class(target),
                "java.version": "11",
                "opensearch.version": VERSION,
                "extended.plugins": bundle.extends,
                "has.native.controller": "false",
            }
            lines = [f"{key}={value}" for key, value in descriptor.items()]
            (target / "plugin-descriptor.properties").write_text("\n".join(lines) + "\n")
            if bundle.policy:
                (target / "plugin-security.policy").write_text(bundle.policy)

    def _compile_phonetic(self, home: Path, target: Path, work: Path) -> None:
        javac = java_home() / "bin" / "javac"
        if not javac.exists():
            raise ServiceError("opensearch: javac is missing; apt-get install openjdk-17-jdk-headless")
        source = work / "speurder" / "opensearch" / "PhoneticPlugin.java"
        source.parent.mkdir(parents=True)
        source.write_text(PHONETIC_SOURCE)
        classpath = os.pathsep.join([str(home / "lib" / "*"), *map(str, target.glob("*.jar"))])
        self._run([str(javac), "--release", "11", "-nowarn", "-cp", classpath, "-d", str(work), str(source)])
        with zipfile.ZipFile(target / f"speurder-phonetic-{VERSION}.jar", "w") as jar:
            for cls in work.rglob("*.class"):
                jar.write(cls, cls.relative_to(work).as_posix())

    def _write_config(self) -> None:
        """Per-checkout config folder (OPENSEARCH_PATH_CONF), so the cached home stays read-only."""
        config = self.state / "config"
        for folder in (config, self.state / "data", self.state / "logs", self.state / "tmp"):
            folder.mkdir(exist_ok=True)
        shutil.copy(self.home / "config" / "log4j2.properties", config)
        shutil.copytree(self.home / "config" / "jvm.options.d", config / "jvm.options.d", dirs_exist_ok=True)
        # The heap comes from settings through OPENSEARCH_JAVA_OPTS, so drop the file's fixed 1g. Its GC log,
        # heap dump and error file paths are relative to the home (bin/opensearch-env cds there), which is
        # shared and read-only: point them into this checkout's state.
        jvm = (self.home / "config" / "jvm.options").read_text()
        jvm = re.sub(r"(?<=[=:])logs/", f"{self.state}/logs/", jvm)
        jvm = jvm.replace("HeapDumpPath=data", f"HeapDumpPath={self.state}/data")
        lines = [line for line in jvm.splitlines() if not line.startswith(("-Xms", "-Xmx"))]
        (config / "jvm.options").write_text("\n".join(lines) + "\n")
        (config / "opensearch.yml").write_text(
            "cluster.name: speurder\n"
            "node.name: speurder-dev\n"
            f"path.data: {self.state / 'data'}\n"
            f"path.logs: {self.state / 'logs'}\n"
            "network.host: 127.0.0.1\n"
            f"http.port: {self.port}\n"
            f"transport.port: {TRANSPORT_PORT}\n"
            "discovery.type: single-node\n"
            # Each word of the search box meets every text field: leave room for pasted statements.
            "indices.query.bool.max_clause_count: 8192\n"
            # Development disks are often nearly full; do not turn indices read-only over it.
            "cluster.routing.allocation.disk.threshold_enabled: false\n"
        )

    def _prepare_service_user(self) -> None:
        """OpenSearch refuses to run as root: run it as a system user that owns the state folder."""
        try:
            pwd.getpwnam(SERVICE_USER)
        except KeyError:
            self._run(
                [
                    "useradd",
                    "--system",
                    "--user-group",
                    "--no-create-home",
                    "--home-dir",
                    "/nonexistent",
                    "--shell",
                    "/usr/sbin/nologin",
                    SERVICE_USER,
                ]
            )
        self._run(["chown", "-R", f"{SERVICE_USER}:{SERVICE_USER}", str(self.state)])
        # The user must reach the home and the state, e.g. under /root (mode 700): grant search (x)
        # on the parent folders, never the right to list them.
        for path in (self.home, self.state):
            for parent in path.parents:
                if not parent.stat().st_mode & stat.S_IXOTH:
                    parent.chmod(parent.stat().st_mode | stat.S_IXOTH)

    def _run(self, cmd: list[str]) -> None:
        env = {**os.environ, "JAVA_HOME": str(java_home())}
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            tail = " | ".join((result.stdout + result.stderr).strip().splitlines()[-3:])
            raise ServiceError(f"opensearch: `{Path(cmd[0]).name}` failed: {tail}")

    # -- running --------------------------------------------------------------------------------
    def command(self) -> list[str]:
        return [str(self.home / "bin" / "opensearch")]

    def environment(self) -> dict[str, str]:
        java = str(java_home())
        heap = self.settings.opensearch_heap
        return {
            "JAVA_HOME": java,
            "OPENSEARCH_JAVA_HOME": java,  # wins over JAVA_HOME in bin/opensearch-env
            "OPENSEARCH_PATH_CONF": str(self.state / "config"),
            "OPENSEARCH_JAVA_OPTS": f"-Xms{heap} -Xmx{heap}",
            "OPENSEARCH_TMPDIR": str(self.state / "tmp"),
        }

    def run_as(self) -> str | None:
        return SERVICE_USER if os.geteuid() == 0 else None

    def healthy(self) -> bool:
        try:
            url = f"http://127.0.0.1:{self.port}/_cluster/health"
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.load(response).get("status") in ("green", "yellow")
        except (OSError, ValueError):
            return False
