"""Read the text of one attachment and write it to stdout as UTF-8.

Run as a separate process by ``buyergroup.library.extraction`` (by path, so it does not
import the web application): ``python extract_worker.py PATH KIND MAX_BYTES``. It limits its
own CPU time and memory first, so a hostile file (a PDF with nested compression, a zip
bomb in a DOCX) can only exhaust this process. Exit status 0: the text is on stdout;
anything else: the reason is the last line on stderr.
"""

from __future__ import annotations

import sys


def _limit_resources(cpu_seconds: int, memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # not on POSIX: the parent's timeout still applies
        return
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # it has no business writing files


class Output:
    """Writes text to stdout and stops cleanly once ``limit`` bytes have been written."""

    def __init__(self, limit: int):
        self.limit = limit
        self.written = 0

    @property
    def full(self) -> bool:
        return self.written >= self.limit

    def write(self, text: str) -> None:
        if self.full or not text:
            return
        data = text.replace("\x00", "").encode("utf-8", "replace")[: self.limit - self.written]
        sys.stdout.buffer.write(data)
        self.written += len(data)


def pdf_text(path: str, out: Output) -> None:
    from pypdf import PdfReader

    reader = PdfReader(path)
    if reader.is_encrypted:
        reader.decrypt("")  # many "protected" PDFs only restrict printing
    for page in reader.pages:
        out.write((page.extract_text() or "") + "\n\n")
        if out.full:
            break


def docx_text(path: str, out: Output) -> None:
    import docx

    document = docx.Document(path)

    def cells(table):
        for row in table.rows:
            for cell in row.cells:
                yield cell
                for inner in cell.tables:
                    yield from cells(inner)

    for paragraph in document.paragraphs:
        out.write(paragraph.text + "\n")
    # Criteria are often written in tables: read every cell as well as the paragraphs.
    # Merged cells repeat: skip a cell element already read. The set holds the elements
    # themselves (not id()s: an id can be reused once its proxy object is gone).
    seen: set = set()
    for table in document.tables:
        for cell in cells(table):
            if cell._tc in seen:
                continue
            seen.add(cell._tc)
            out.write(cell.text + "\n")
        if out.full:
            break


def odt_text(path: str, out: Output) -> None:
    from odf import teletype
    from odf.opendocument import load

    document = load(path)
    for element in _walk(document.text):
        out.write(teletype.extractText(element) + "\n")
        if out.full:
            break


def _walk(node):
    """Headings and paragraphs in document order, including those inside tables and lists."""
    for child in node.childNodes:
        if child.nodeType != child.ELEMENT_NODE:
            continue
        if child.qname[1] in ("h", "p"):
            yield child
        else:
            yield from _walk(child)


def plain_text(path: str, out: Output) -> None:
    with open(path, encoding="utf-8-sig", errors="replace") as stream:
        while not out.full:
            chunk = stream.read(64 * 1024)
            if not chunk:
                break
            out.write(chunk)


READERS = {"pdf": pdf_text, "docx": docx_text, "odt": odt_text, "txt": plain_text, "md": plain_text}


def main(argv: list[str]) -> int:
    path, kind, max_bytes = argv[1], argv[2], int(argv[3])
    cpu = int(argv[4]) if len(argv) > 4 else 20
    memory = int(argv[5]) if len(argv) > 5 else 1024
    _limit_resources(cpu, memory)
    reader = READERS.get(kind)
    if reader is None:
        print(f"unsupported type {kind}", file=sys.stderr)
        return 2
    try:
        reader(path, Output(max_bytes))
    except MemoryError:
        print("the file needs too much memory to read", file=sys.stderr)
        return 3
    except Exception as error:  # noqa: BLE001 - any failure means "could not read"
        message = " ".join(str(error).split())[:300]
        print(f"{type(error).__name__}: {message}", file=sys.stderr)
        return 1
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
