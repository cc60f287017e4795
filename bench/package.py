"""Part 5: deployed size of what `sam build` makes: each function's folder and the layer.

infra.artifacts.build() first (a no-op when .aws-sam/build is that of this tree), then the
sizes of the built folders as SAM zips and uploads them: zipped (deflate) and unzipped,
__pycache__ left out. Lambda's limit is 250 MB unzipped for a function and its layers
together. The layer's dependencies are named by the built layer itself: every
`*.dist-info/RECORD` in its python/ claims its files; what no RECORD claims is ours
(returns_core, the domain).

    python -m bench.package OUT.json
"""
from __future__ import annotations

import csv
import io
import json
import os
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT_UNZIPPED = 250 * 1024 * 1024


def _dir_files(root: Path, prefix: str = "") -> list[tuple[Path, str]]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for fn in sorted(filenames):
            p = Path(dirpath) / fn
            if p.is_file() and not p.name.endswith(".pyc"):
                out.append((p, prefix + str(p.relative_to(root))))
    return out


def _zip_size(files: list[tuple[Path, str]]) -> tuple[int, int]:
    buf = io.BytesIO()
    raw = 0
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path, arc in files:
            z.write(path, arc)
            raw += path.stat().st_size
    return len(buf.getvalue()), raw


def _distributions(python_dir: Path) -> tuple[dict[str, list[tuple[Path, str]]], list[tuple[Path, str]]]:
    """{distribution: its files} from the RECORDs in the layer's python/, and the files none claims."""
    files = _dir_files(python_dir)
    owner: dict[str, str] = {}
    for record in sorted(python_dir.glob("*.dist-info/RECORD")):
        name = record.parent.name[:-len(".dist-info")].rsplit("-", 1)[0]
        with open(record, newline="") as f:
            for row in csv.reader(f):
                if row:   # console scripts and man pages are recorded from outside: ../../bin/chalice
                    rel = row[0]
                    while rel.startswith("../"):
                        rel = rel[3:]
                    owner[os.path.normpath(rel)] = name
        owner[os.path.normpath(str(record.parent.relative_to(python_dir)))] = name
    by_dist: dict[str, list[tuple[Path, str]]] = {}
    unclaimed = []
    for path, rel in files:
        rel_n = os.path.normpath(rel)
        name = owner.get(rel_n) or (owner.get(rel_n.split(os.sep)[0]) if rel_n.split(os.sep)[0].endswith(
            ".dist-info") else None)
        if name:
            by_dist.setdefault(name, []).append((path, rel))
        else:
            unclaimed.append((path, rel))
    return by_dist, unclaimed


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    from infra import artifacts
    from infra.local import deploy

    build_dir = artifacts.build(quiet=True)
    built = deploy._artifacts(build_dir)   # each function's built folder and layer, from sam build's template
    layers = {a.layer_root for a in built.values()}
    if len(layers) != 1:
        raise SystemExit(f"package: expected one layer for every function, found {sorted(map(str, layers))}")
    layer_python = layers.pop()
    layer_dir = layer_python.parent

    layer_z, layer_raw = _zip_size(_dir_files(layer_dir))
    by_dist, unclaimed = _distributions(layer_python)
    dep_sizes = {}
    for name, files in sorted(by_dist.items()):
        z, raw = _zip_size(files)
        dep_sizes[name] = {"zipped": z, "unzipped": raw}
    own_z, own_raw = _zip_size(unclaimed)
    own_tops = sorted({rel.split("/", 1)[0] for _, rel in unclaimed})

    functions = {}
    for lid, art in built.items():
        z, raw = _zip_size(_dir_files(art.task_root))
        functions[lid] = {"zipped": z, "unzipped": raw, "with_layer_unzipped": raw + layer_raw,
                          "within_250MB_limit": raw + layer_raw <= LIMIT_UNZIPPED,
                          "folder": str(art.task_root.relative_to(ROOT)), "handler": art.handler}
    out = {"artifacts": str(build_dir.relative_to(ROOT)),
           "layer": {"folder": str(layer_dir.relative_to(ROOT)), "zipped": layer_z, "unzipped": layer_raw,
                     "domain_zipped": own_z, "domain_unzipped": own_raw, "domain_top_level": own_tops,
                     "dependencies": dep_sizes},
           "functions": functions, "limit_unzipped": LIMIT_UNZIPPED,
           "method": "sizes of the sam build folders (zip deflate, __pycache__ excluded); dependencies named "
                     "by the built layer's dist-info RECORDs"}
    biggest = max(f["with_layer_unzipped"] for f in functions.values())
    print(f"package: layer {layer_raw / 2**20:.1f} MB unzipped ({layer_z / 2**20:.1f} MB zipped), largest "
          f"function+layer {biggest / 2**20:.1f} MB of 250 MB", file=sys.stderr)
    with open(argv[0], "w") as f:
        json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
