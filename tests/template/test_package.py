"""`make package` builds the arm64 bundle `sam build` would ship, and it would load on Lambda.

Nothing here can run arm64 code, so the checks read what the loader would: every shared
object's ELF header (64-bit, little-endian, e_machine 183 = AArch64), each one's DT_NEEDED
libraries (bundled, or part of the manylinux base every Lambda runtime has), the CPython
tag of each extension module, the distributions installed (exactly the lock), the imports
of the handlers (all satisfied by the bundle), and the unzipped size (Lambda's limit).

The build downloads aarch64 wheels from PyPI; pip's cache makes a re-run take seconds.
"""

from __future__ import annotations

import ast
import re
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from email.parser import HeaderParser
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from tests.reliability import record
from tests.template.test_lock import LOCK, pins

ROOT = Path(__file__).resolve().parents[2]
HANDLER_PACKAGE = "thumbnailer"
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024  # function code and layers, unzipped
EM_AARCH64 = 183
SHT_DYNAMIC, DT_NULL, DT_NEEDED = 6, 0, 1
# Libraries the manylinux policies let a wheel take from the system (auditwheel's policy list)
# and that Amazon Linux 2023, under the python3.13 runtime, provides.
SYSTEM_LIBRARIES = {
    "libc.so.6", "libm.so.6", "libdl.so.2", "librt.so.1", "libpthread.so.0", "libutil.so.1",
    "libresolv.so.2", "libnsl.so.1", "libgcc_s.so.1", "libstdc++.so.6", "libz.so.1",
    "ld-linux-aarch64.so.1",
}
SHARED_OBJECT = re.compile(r"\.so(\.\d+)*$")
# The C extensions the handlers' formats decode and encode with (JPEG, PNG, GIF, TIFF in
# _imaging; WebP in _webp; AVIF in _avif).
PIL_EXTENSIONS = ("_imaging", "_webp", "_avif")
# What ``encode`` asks libavif for (codec "aom") and what reads AVIF sources (dav1d): symbols of
# the codecs linked into the wheel's libavif, read from its bytes since it cannot run here.
AVIF_CODEC_SYMBOLS = (b"aom_codec_encode", b"aom_codec_enc_init", b"dav1d_open")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundle, built by the Makefile's own recipe with this venv's pip into a scratch folder."""
    target = tmp_path_factory.mktemp("package") / "lambda-arm64"
    started = time.perf_counter()
    build = subprocess.run(
        ["make", "-s", "package", "PACKAGE_NEEDS=", f"BIN={Path(sys.executable).parent}",
         f"PACKAGE_DIR={target}"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    print(f"\nmake package: {time.perf_counter() - started:.1f} s")
    return target


def shared_objects(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and SHARED_OBJECT.search(p.name))


def elf_header(path: Path) -> tuple[int, int, int]:
    """(EI_CLASS, EI_DATA, e_machine) of an ELF file."""
    with path.open("rb") as fh:
        head = fh.read(20)
    assert head[:4] == b"\x7fELF", f"{path.name} is not an ELF file"
    order = "<" if head[5] == 1 else ">"
    return head[4], head[5], struct.unpack(f"{order}H", head[18:20])[0]


def needed_libraries(path: Path) -> list[str]:
    """DT_NEEDED entries of a 64-bit little-endian ELF file's dynamic section."""
    data = path.read_bytes()
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    # (type, offset, size, link) of each section header
    sections = [struct.unpack_from("<4xI16xQQI", data, shoff + i * shentsize) for i in range(shnum)]
    names: list[str] = []
    for kind, offset, size, link in sections:
        if kind != SHT_DYNAMIC:
            continue
        strings = sections[link][1]
        for entry in range(offset, offset + size, 16):
            tag, value = struct.unpack_from("<qQ", data, entry)
            if tag == DT_NULL:
                break
            if tag == DT_NEEDED:
                start = strings + value
                names.append(data[start:data.index(b"\0", start)].decode())
    return names


def installed_distributions(root: Path) -> dict[str, str]:
    """Canonical name -> version of every *.dist-info in the bundle."""
    found: dict[str, str] = {}
    for meta in root.glob("*.dist-info/METADATA"):
        headers = HeaderParser().parsestr(meta.read_text(encoding="utf-8"))
        found[canonicalize_name(headers["Name"])] = headers["Version"]
    return found


def imported_top_levels(package: Path) -> Iterator[tuple[str, str]]:
    """(module file, top-level name) of every absolute import in a package's code."""
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield source.name, alias.name.partition(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                yield source.name, node.module.partition(".")[0]


def test_every_shared_object_is_aarch64(bundle: Path) -> None:
    """One x86_64 wheel would fail at import on an arm64 function."""
    objects = shared_objects(bundle)
    assert len(objects) > 10
    wrong = {p.name: elf_header(p) for p in objects if elf_header(p) != (2, 1, EM_AARCH64)}
    assert wrong == {}
    record("Packaging", "Lambda bundle: shared objects",
           "every .so a 64-bit little-endian AArch64 ELF (e_machine 183)",
           f"{len(objects)} of them; (EI_CLASS, EI_DATA, e_machine) seen: "
           f"{', '.join(map(str, sorted({elf_header(p) for p in objects})))}")


def test_extension_modules_are_built_for_cpython_313(bundle: Path) -> None:
    """An extension tagged for the build machine's Python would not import on python3.13."""
    modules = [p for p in shared_objects(bundle) if p.suffix == ".so" and "cpython" in p.name]
    assert modules
    assert [p.name for p in modules if not p.name.endswith(".cpython-313-aarch64-linux-gnu.so")] == []


def test_pil_c_extensions_are_bundled(bundle: Path) -> None:
    present = {p.name.partition(".")[0] for p in (bundle / "PIL").glob("*.so")}
    assert set(PIL_EXTENSIONS) <= present, present


def test_every_needed_library_is_bundled_or_in_the_base_system(bundle: Path) -> None:
    """The loader resolves each DT_NEEDED from the bundle (auditwheel's vendored copies) or the OS."""
    objects = shared_objects(bundle)
    bundled = {p.name for p in objects}
    unresolved = sorted(
        (p.name, lib) for p in objects for lib in needed_libraries(p)
        if lib not in bundled and lib not in SYSTEM_LIBRARIES
    )
    assert unresolved == []
    imaging = next((bundle / "PIL").glob("_imaging.*.so"))
    assert any(lib.startswith("libjpeg") for lib in needed_libraries(imaging))  # the parser reads them


def test_bundle_installs_exactly_the_lock(bundle: Path) -> None:
    """Nothing unpinned resolved by the build, nothing pinned left out, every version the pin."""
    assert installed_distributions(bundle) == pins(LOCK)


def test_bundle_carries_the_handler_code(bundle: Path) -> None:
    """CodeUri is functions/: the package as the handlers' module paths name it, no bytecode."""
    package = ROOT / "functions" / HANDLER_PACKAGE
    copied = bundle / HANDLER_PACKAGE
    assert {p.relative_to(copied) for p in copied.rglob("*.py")} == {
        p.relative_to(package) for p in package.rglob("*.py")}
    assert list(bundle.rglob("*.pyc")) == []


def test_handlers_import_only_what_the_bundle_has(bundle: Path) -> None:
    """A module only local mode installs (moto, yaml) would fail the first invocation."""
    available = set(sys.stdlib_module_names) | {p.name for p in bundle.iterdir() if p.is_dir()} | {
        p.stem for p in bundle.glob("*.py")}
    missing = sorted({(f, name) for f, name in imported_top_levels(bundle / HANDLER_PACKAGE)
                      if name not in available})
    assert missing == []


def test_unzipped_size_fits_lambda(bundle: Path) -> None:
    size = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
    print(f"\nunzipped bundle: {size:,} bytes ({size / 2**20:.1f} MiB) of {LAMBDA_UNZIPPED_LIMIT:,}")
    assert size < LAMBDA_UNZIPPED_LIMIT
    record("Packaging", "Lambda bundle: unzipped size", "under Lambda's 250 MB",
           f"about {round(size / 2**20)} MiB")


def test_the_heif_decoder_is_bundled_for_aarch64(bundle: Path) -> None:
    """HEIC input: pillow-heif's extension, and the libheif and libde265 it loads, in the bundle."""
    (module,) = bundle.glob("_pillow_heif.*.so")
    assert module.name.endswith(".cpython-313-aarch64-linux-gnu.so")
    assert elf_header(module) == (2, 1, EM_AARCH64)
    libs = {p.name: p for p in (bundle / "pillow_heif.libs").iterdir()}
    needed = needed_libraries(module)
    libheif = [libs[name] for name in needed if name.startswith("libheif")]
    assert len(libheif) == 1, needed
    assert any(name.startswith("libde265") and name in libs for name in needed_libraries(libheif[0]))
    assert all(elf_header(p) == (2, 1, EM_AARCH64) for p in libs.values())
    record("Packaging", "Lambda bundle: HEIF decoder",
           "pillow-heif's aarch64 extension with libheif and libde265 beside it",
           f"{module.name}; {', '.join(sorted(libs))}")


def test_the_avif_encoder_is_bundled_for_aarch64(bundle: Path) -> None:
    """AVIF output: Pillow's _avif loads a libavif with libaom's AV1 encoder (and dav1d) linked in."""
    (module,) = (bundle / "PIL").glob("_avif.*.so")
    assert elf_header(module) == (2, 1, EM_AARCH64)
    libs = {p.name: p for p in (bundle / "pillow.libs").iterdir()}
    libavif = [libs[name] for name in needed_libraries(module) if name.startswith("libavif")]
    assert len(libavif) == 1, needed_libraries(module)
    assert elf_header(libavif[0]) == (2, 1, EM_AARCH64)
    data = libavif[0].read_bytes()
    missing = [s.decode() for s in AVIF_CODEC_SYMBOLS if s not in data]
    assert missing == []
    record("Packaging", "Lambda bundle: AVIF encoder",
           "Pillow's aarch64 _avif with a libavif holding libaom's encoder and dav1d",
           f"{module.name}; {libavif[0].name} with {', '.join(s.decode() for s in AVIF_CODEC_SYMBOLS)}")
