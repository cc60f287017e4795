"""Part 5: deployed size of each function (its code dir) and of the layer (domain + dependencies).

The layer is layers/returns_core/python plus the installed distributions pyproject's
dependencies pull in, minus what the Lambda runtime provides (boto3, botocore and their
own dependencies). The API function also needs Chalice, which is counted with it.
Sizes: zipped (deflate, as SAM uploads) and unzipped; __pycache__ is left out.

    python -m bench.package OUT.json
"""
from __future__ import annotations

import io
import json
import os
import re
import sys
import zipfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYER_DEPS = ["pynamodb", "aws-lambda-powertools", "pydantic", "reportlab", "segno", "stripe"]
LAYER_EXTRAS = {"aws-lambda-powertools": {"tracer", "validation"}}
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
LIMIT_UNZIPPED = 250 * 1024 * 1024


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(names: list[str]) -> list[str]:
    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [(n, LAYER_EXTRAS.get(n, set())) for n in names]
    while todo:
        name, extras = todo.pop()
        key = _norm(name)
        if key in seen or key in RUNTIME_PROVIDED:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(key)
        for raw in dist.requires or []:
            req = Requirement(raw)
            if req.marker is not None:
                envs = [{"extra": e} for e in (extras or {""})]
                if not any(req.marker.evaluate(e) for e in envs):
                    continue
            todo.append((req.name, set(req.extras)))
    return sorted(seen)


def _dist_files(name: str) -> list[tuple[Path, str]]:
    dist = metadata.distribution(name)
    out = []
    for f in dist.files or []:
        if "__pycache__" in f.parts or str(f).startswith(".."):
            continue
        p = Path(dist.locate_file(f))
        if p.is_file():
            out.append((p, str(f)))
    return out


def _dir_files(root: Path, prefix: str = "") -> list[tuple[Path, str]]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for fn in filenames:
            p = Path(dirpath) / fn
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


def main(argv: list[str]) -> int:
    import yaml

    class Loader(yaml.SafeLoader):
        pass
    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=Loader)

    deps = _closure(LAYER_DEPS)
    dep_sizes = {}
    layer_files = _dir_files(ROOT / "layers/returns_core/python", "python/")
    for d in deps:
        files = _dist_files(d)
        z, raw = _zip_size(files)
        dep_sizes[d] = {"zipped": z, "unzipped": raw}
        layer_files += [(p, "python/" + a) for p, a in files]
    own_z, own_raw = _zip_size(_dir_files(ROOT / "layers/returns_core/python"))
    layer_z, layer_raw = _zip_size(layer_files)
    functions = {}
    for lid, res in template["Resources"].items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        code = ROOT / res["Properties"]["CodeUri"]
        files = _dir_files(code)
        extra = []
        if lid == "ApiFunction":
            # Chalice must ship with the app (it is not in the layer). At run time the app needs only the
            # chalice package itself; its CLI/deployer dependencies (click, pip, inquirer...) are left out.
            extra.append("chalice")
            files += _dist_files("chalice")
        z, raw = _zip_size(files)
        functions[lid] = {"zipped": z, "unzipped": raw, "with_layer_unzipped": raw + layer_raw,
                          "bundled_dependencies": extra,
                          "within_250MB_limit": raw + layer_raw <= LIMIT_UNZIPPED}
    out = {"layer": {"zipped": layer_z, "unzipped": layer_raw, "domain_zipped": own_z, "domain_unzipped": own_raw,
                     "dependencies": dep_sizes},
           "functions": functions, "excluded_runtime_provided": sorted(RUNTIME_PROVIDED)}
    with open(argv[0], "w") as f:
        json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
