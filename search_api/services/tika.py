"""Apache Tika server (text and metadata extraction, OCR through Tesseract) as a local service.

The server runs in watchdog mode: a small parent JVM forks the JVM that parses, restarts it when a
parse runs out of memory or time, and gives it the heap set in `<forkedJvmArgs>`.

OCR per request (tested against 3.3.2). Headers `X-Tika-OCR<name>` set that property of
TesseractOCRConfig, `X-Tika-PDF<name>` one of PDFParserConfig, for this request only; properties not
named keep the values of the config file (the languages, for instance):
  * `X-Tika-OCRskipOcr: true`          no Tesseract at all: images give no text, PDFs only their text layer;
                                       `false` turns OCR on for a request when `ocr_enabled` is off.
  * `X-Tika-PDFOcrStrategy: no_ocr`    PDFs without OCR (also `auto`, the default here, `ocr_only`,
                                       `ocr_and_text`); images are still OCR'd unless skipOcr.
  * `X-Tika-OCRlanguage: eng`          other languages for one request.
An unknown property or value gives HTTP 400; names containing "path" are refused.

Failures: `/rmeta/text` (what the `tika` package's `parser.from_file` calls) answers 200 for
encrypted, truncated and empty files, with `X-TIKA:EXCEPTION:container_exception` in the first
metadata item (plus `X-TIKA:encrypted: true` for a password-protected PDF); `/tika` answers 422.
A PDF cut short may still parse, with what text it has. A PDF with
only an owner password (no user password) parses normally. Per-request limits: headers
`writeLimit` and `maxEmbeddedResources` on `/rmeta`.
"""

from __future__ import annotations

import subprocess
import urllib.request
from pathlib import Path
from xml.sax.saxutils import escape

from search_api.services.base import JarService, ServiceError
from search_api.services.maven import fetch, require_java, require_tool

VERSION = "3.3.2"
COORDINATES = f"org.apache.tika:tika-server-standard:{VERSION}"

CONFIG = """<?xml version="1.0" encoding="UTF-8"?>
<properties>
  <parsers>
    <!-- Everything as usual, except the two parsers configured below. -->
    <parser class="org.apache.tika.parser.DefaultParser">
      <parser-exclude class="org.apache.tika.parser.ocr.TesseractOCRParser"/>
      <parser-exclude class="org.apache.tika.parser.pdf.PDFParser"/>
    </parser>
    <!-- Param names are the parser's setters (skipOCR, not skipOcr); Tika ignores unknown ones. -->
    <parser class="org.apache.tika.parser.ocr.TesseractOCRParser">
      <params>
        <param name="language" type="string">{languages}</param>
        <param name="skipOCR" type="bool">{skip_ocr}</param>
        <param name="timeout" type="int">{timeout}</param>
        <!-- Larger images are photos, not scans; OCR on them takes long and finds little. -->
        <param name="maxFileSizeToOcr" type="long">52428800</param>
      </params>
    </parser>
    <parser class="org.apache.tika.parser.pdf.PDFParser">
      <params>
        <!-- OCR only the pages that have (almost) no text layer: scans, not born-digital PDFs. -->
        <param name="ocrStrategy" type="string">auto</param>
      </params>
    </parser>
  </parsers>
  <autoDetectParserConfig>
    <params>
      <!-- Zip-bomb guards (SecureContentHandler): an absurd compression ratio; more than 100 nested
           XHTML elements in the output (maximumDepth counts elements, not archive levels); archives
           nested more than 10 deep. Speurder keeps children to 8 levels (ChildLimits.max_depth), so
           Tika stops walking a droste or a quine two levels past what would be kept. -->
      <maximumCompressionRatio>100</maximumCompressionRatio>
      <maximumDepth>100</maximumDepth>
      <maximumPackageEntryDepth>10</maximumPackageEntryDepth>
    </params>
  </autoDetectParserConfig>
  <server>
    <params>
      <host>127.0.0.1</host>
      <port>{port}</port>
      <!-- A parse that takes longer is killed together with its JVM, which is then restarted. -->
      <taskTimeoutMillis>{timeout_ms}</taskTimeoutMillis>
      <!-- A fresh parsing JVM now and then keeps slow leaks in parser libraries bounded. -->
      <maxFiles>20000</maxFiles>
      <forkedJvmArgs>
        <arg>-Xmx1g</arg>
        <arg>-Djava.awt.headless=true</arg>
        <arg>-Djava.io.tmpdir={tmp}</arg>
      </forkedJvmArgs>
    </params>
  </server>
</properties>
"""


class TikaService(JarService):
    name = "tika"
    jar_name = f"tika-server-standard-{VERSION}.jar"

    @property
    def port(self) -> int:
        return self.settings.port_of(self.settings.tika_url)

    def provision(self) -> None:
        require_java()
        fetch(COORDINATES, self.jar.parent)
        if self.settings.ocr_enabled:
            self._check_tesseract()
        (self.state / "tmp").mkdir(exist_ok=True)
        timeout = self.settings.tika_timeout_seconds
        (self.state / "tika-config.xml").write_text(
            CONFIG.format(
                languages=escape(self.settings.ocr_languages),
                skip_ocr=str(not self.settings.ocr_enabled).lower(),
                timeout=timeout,
                timeout_ms=timeout * 1000,
                port=self.port,
                tmp=escape(str(self.state / "tmp")),
            )
        )

    def _check_tesseract(self) -> None:
        """Without Tesseract, or without a language, Tika quietly returns no OCR text: say so now."""
        tesseract = require_tool(
            "tesseract",
            "install it (Debian: apt-get install tesseract-ocr) or set SPEURDER_OCR_ENABLED=false",
        )
        listed = subprocess.run([tesseract, "--list-langs"], capture_output=True, text=True, check=False)
        missing = set(self.settings.ocr_languages.split("+")) - set(listed.stdout.split())
        if missing:
            packages = " ".join(f"tesseract-ocr-{lang}" for lang in sorted(missing))
            raise ServiceError(
                f"tika: Tesseract lacks the OCR languages {sorted(missing)}; "
                f"install them (Debian: apt-get install {packages})"
            )

    def command(self) -> list[str]:
        # The parent JVM only watches the forked one, so it needs little heap.
        return [
            require_java(),
            "-Xmx256m",
            f"-Djava.io.tmpdir={self.state / 'tmp'}",
            "-jar",
            str(self.jar),
            "-c",
            str(self.state / "tika-config.xml"),
        ]

    def environment(self) -> dict[str, str]:
        # Tesseract starts a thread per core for every page; with parallel requests that
        # oversubscribes the CPU and is slower than one thread each.
        return {"OMP_THREAD_LIMIT": "1"}

    def cwd(self) -> Path:
        return self.state

    def healthy(self) -> bool:
        # Answers only once the forked JVM, the one that parses, is up.
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/tika", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False
