#!/usr/bin/env python3
"""Checks the include graph of src/ against the layer map of docs/DESIGN.md.

Each folder of src/ is a layer. A file may include headers of its own layer
and of the layers below it, never of a layer above; and no two modules
(a module is name.c with name.h) may depend on each other through any
chain of includes, within a layer or across. Prints every arrow that runs
up a layer and every cycle, and exits 1 when there is one.

    tests/check_layers.py [SRC_DIR]
"""

import os
import re
import sys

# Top to bottom: a layer may use those after it in this list.
LAYERS = ["main", "handlers", "http", "domain", "db", "auth", "otlp", "json", "ops", "util"]
# Files that are parts of one module, split for size, sharing its internal
# header: a part and its module may include each other.
PARTS = {
    "domain/ingest_schema": "domain/ingest_validate",
    "domain/ingest_idempotency": "domain/ingest_store",
    "ops/metrics_file": "ops/metrics",
    "ops/metrics_text": "ops/metrics",
    "json/json_value": "json/json_scan",
    "main/upload_options": "main/upload",
    "main/upload_credentials": "main/upload",
    "main/upload_queue": "main/upload",
    "main/upload_transfer": "main/upload",
    "main/upload_outcome": "main/upload",
    "main/upload_report": "main/upload",
    "otlp/otlp_build": "otlp/otlp_decode",
    "otlp/otlp_inflate": "otlp/otlp_decode",
    "otlp/otlp_proto": "otlp/otlp_decode",
    "otlp/otlp_json": "otlp/otlp_decode",
    "otlp/otlp_json_value": "otlp/otlp_decode",
    "otlp/otlp_jread": "otlp/otlp_decode",
    "otlp/otlp_answer": "otlp/otlp_decode",
}
# Modules the build generates into the build tree (not in src/), by the
# file they come from: a module of that file's layer that includes nothing
# of ours.
GENERATED = {
    "otlp/trace.pb-c": "otlp/trace.proto",
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def modules(src):
    """{module: (layer, [included module, ...])} for every .c/.h under src."""
    mods = {key: (os.path.dirname(key), []) for key, source in GENERATED.items()
            if os.path.exists(os.path.join(src, source))}
    for layer in os.listdir(src):
        folder = os.path.join(src, layer)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            stem, ext = os.path.splitext(name)
            if ext not in (".c", ".h"):
                continue
            key = f"{layer}/{stem}"
            key = PARTS.get(key, key)
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                incs = INCLUDE.findall(f.read())
            entry = mods.setdefault(key, (layer, []))
            for inc in incs:
                target = os.path.splitext(inc)[0]
                target = PARTS.get(target, target)
                if target != key and target not in entry[1]:
                    entry[1].append(target)
    return mods


def check(src):
    problems = []
    stray = [n for n in os.listdir(src) if os.path.splitext(n)[1] in (".c", ".h")]
    for n in sorted(stray):
        problems.append(f"src/{n}: outside every layer folder")
    mods = modules(src)
    for key, (layer, deps) in sorted(mods.items()):
        if layer not in LAYERS:
            problems.append(f"src/{key}: folder {layer!r} is not a layer of the map")
            continue
        for dep in deps:
            if dep not in mods:
                problems.append(f"src/{key} includes {dep}.h, which is not in src/")
                continue
            dl = mods[dep][0]
            if dl in LAYERS and LAYERS.index(dl) < LAYERS.index(layer):
                problems.append(f"src/{key} ({layer}) includes {dep}.h, a layer above ({dl})")
    # Cycles: strongly connected components with more than one module.
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in mods[v][1]:
            if w not in mods:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(mods):
        if v not in index:
            visit(v)
    for comp in sccs:
        problems.append("cycle: " + " <-> ".join(comp))
    return problems, mods


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    problems, mods = check(src)
    for p in problems:
        print(p)
    arrows = sum(len(d) for _, d in mods.values())
    print(f"check_layers: {len(mods)} modules, {arrows} include arrows, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
