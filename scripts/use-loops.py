#!/usr/bin/env python3
"""Prints the module dependency graph of each library and binary crate and exits 1
if modules inside one crate depend on each other in a loop.

A module is a source file (`src/policy/drone.rs` is `policy::drone`). A module
depends on another when its code names a path into it: `crate::a::b`,
`super::x`, `self::x`, or a submodule it declares (`mod drone;` then `drone::X`).
A path resolves to the longest known module it starts with, so
`crate::policy::base::load_boxes` is a use of `policy::base`, and
`crate::policy::PolicyKind` a use of `policy`. Comments and string literals are
skipped. Tests (`tests/`, `benches/`, `#[cfg(test)]` modules) are not part of a
crate's module graph and are not read.

Usage: scripts/use-loops.py [crate-dir ...]   (default: every crate of the workspace)
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def strip_comments_and_strings(text: str) -> str:
    """The code of a Rust file without comments, string and char literals."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            i = n if end < 0 else end + 1 + len(hashes)
            out.append('""')
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            out.append('""')
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:i + 4]):
            i = text.find("'", i + 2) + 1
            out.append("' '")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def drop_test_modules(code: str) -> str:
    """The code without `#[cfg(test)] mod name { ... }` blocks."""
    while True:
        m = re.search(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", code)
        if not m:
            return code
        depth, i = 1, m.end()
        while i < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[i], 0)
            i += 1
        code = code[: m.start()] + code[i:]


def module_files(src: pathlib.Path, root_file: pathlib.Path):
    """Every module of the crate rooted at `root_file`: path tuple -> file."""
    modules = {(): root_file}

    def walk(path, file):
        code = drop_test_modules(strip_comments_and_strings(file.read_text()))
        for m in re.finditer(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", code, re.M):
            name = m.group(1)
            if file.name in ("mod.rs", "lib.rs", "main.rs"):
                base = file.parent
            else:
                base = file.parent / file.stem
            for candidate in (base / f"{name}.rs", base / name / "mod.rs"):
                if candidate.exists():
                    modules[path + (name,)] = candidate
                    walk(path + (name,), candidate)
                    break

    walk((), root_file)
    return modules


PATH = re.compile(r"\b((?:crate|super|self|[a-z_][a-z0-9_]*)(?:\s*::\s*(?:[A-Za-z_][A-Za-z0-9_]*|\{[^;]*?\}))+)")


def expand(path: str):
    """`a::{b, c::d}` -> ['a::b', 'a::c::d'] (nested braces handled)."""
    path = re.sub(r"\s+", "", path)
    m = re.search(r"\{", path)
    if not m:
        return [path]
    head, body = path[: m.start()], path[m.end():]
    depth, parts, cur = 1, [], ""
    for ch in body:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                break
        if ch == "," and depth == 1:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        if p:
            out.extend(expand(head + p))
    return out


def deps_of(path, file, modules):
    """The modules `path` names, resolved to the longest known module."""
    code = drop_test_modules(strip_comments_and_strings(file.read_text()))
    children = {p[-1] for p in modules if len(p) == len(path) + 1 and p[: len(path)] == path}
    found = set()
    for m in PATH.finditer(code):
        for full in expand(m.group(1)):
            segs = [s for s in full.split("::") if s]
            if not segs:
                continue
            if segs[0] == "crate":
                target, rest = (), segs[1:]
            elif segs[0] in ("super", "self"):
                target = path
                while segs and segs[0] in ("super", "self"):
                    if segs[0] == "super":
                        target = target[:-1]
                    segs = segs[1:]
                rest = segs
            elif segs[0] in children:
                target, rest = path, segs
            else:
                continue
            resolved = target
            for s in rest:
                if resolved + (s,) in modules:
                    resolved = resolved + (s,)
                else:
                    break
            if resolved != path and resolved != ():
                found.add(resolved)
    return found


def find_cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
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
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def name(path):
    return "::".join(path) or "crate"


def check_crate(crate_dir: pathlib.Path) -> bool:
    ok = True
    for root_name in ("lib.rs", "main.rs"):
        root_file = crate_dir / "src" / root_name
        if not root_file.exists():
            continue
        modules = module_files(crate_dir / "src", root_file)
        graph = {p: deps_of(p, f, modules) for p, f in modules.items() if p != ()}
        rel = crate_dir.relative_to(ROOT) if crate_dir.is_relative_to(ROOT) else crate_dir
        print(f"{rel} ({root_name})")
        for p in sorted(graph):
            deps = ", ".join(name(d) for d in sorted(graph[p])) or "-"
            print(f"  {name(p)} -> {deps}")
        for cycle in find_cycles(graph):
            ok = False
            print(f"  LOOP: {' <-> '.join(name(c) for c in cycle)}")
    return ok


def main(argv):
    dirs = [pathlib.Path(a).resolve() for a in argv] or sorted(
        p.parent for p in ROOT.glob("**/Cargo.toml")
        if "target" not in p.parts and (p.parent / "src").is_dir()
    )
    ok = all([check_crate(d) for d in dirs])
    if not ok:
        print("module import loops found (see LOOP lines)", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
