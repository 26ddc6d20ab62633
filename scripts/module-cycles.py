#!/usr/bin/env python3
"""Import cycles between the modules of a Rust crate.

Usage: scripts/module-cycles.py [--with-tests] [CRATE_SRC_DIR...]
(every crate of the workspace when no directory is given)

Every `crate::…`, `super::…` and `self::…` path in a module's code (comments
left out) is an edge from that module to the deepest module the path names. An
edge between two modules is charged to the two siblings under their closest
common ancestor that contain them (`app::ivr` → `app::prompts` is an edge
`ivr` → `prompts` under `app`; `node::call` → `app::ivr` is `node` → `app`
under the crate root). A parent naming its child, or a child its parent, is no
edge. Prints every strongly connected group of siblings (a cycle: a module
that imports a sibling that imports it back, directly or around a loop) and
exits 1 if there is one, 0 otherwise, after listing the sibling edges.

Test-only modules (declared under `#[cfg(test)]` or `#[cfg(any(test, …))]`: unit
tests, fixtures, fuzz harnesses) are left out, as `cargo modules` leaves them out
by default: a test module uses its fixtures and the code it tests by design.
`--with-tests` counts them too.
"""
import os
import re
import sys


def module_of(src, path):
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel[-1] in ("lib", "main", "mod"):
        rel = rel[:-1]
    return tuple(rel)


def code_lines(text):
    """The text without comments and string literals (close enough for paths)."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'"(\\.|[^"\\])*"', '""', text, flags=re.S)
    return [line.split("//")[0] for line in text.split("\n")]


def resolve(module, path, modules):
    parts = path.split("::")
    if parts[0] == "crate":
        base, rest = (), parts[1:]
    else:
        base = module
        while parts and parts[0] in ("super", "self"):
            if parts[0] == "super":
                base = base[:-1]
            parts = parts[1:]
        rest = parts
    target = base
    for part in rest:
        if target + (part,) in modules:
            target = target + (part,)
        else:
            break
    return target


TEST_MOD = re.compile(r"#\[cfg\((?:test|any\(test[^\]]*)\)\]\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+([a-z_0-9]+)\s*([;{])")


def strip_test_modules(text):
    """The text without its inline `#[cfg(test)] mod x { … }` blocks, and the names
    of the test-only modules it declares in files."""
    declared = []
    while True:
        m = TEST_MOD.search(text)
        if not m:
            return text, declared
        if m.group(2) == ";":
            declared.append(m.group(1))
            text = text[: m.start()] + text[m.end():]
            continue
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        text = text[: m.start()] + text[i:]


def analyse(src, with_tests):
    files = []
    for root, dirs, names in os.walk(src):
        # src/bin/* and a main.rs beside a lib.rs are crates of their own.
        dirs[:] = [d for d in dirs if not (root == src and d == "bin")]
        files += [os.path.join(root, n) for n in names if n.endswith(".rs")]
    lib, main = os.path.join(src, "lib.rs"), os.path.join(src, "main.rs")
    if lib in files and main in files:
        files.remove(main)
    modules = {module_of(src, f): f for f in files}
    texts, test_only = {}, set()
    for module, f in modules.items():
        text = open(f).read()
        if not with_tests:
            text, declared = strip_test_modules(text)
            test_only |= {module + (name,) for name in declared}
        texts[module] = text
    if not with_tests:
        modules = {
            m: f for m, f in modules.items()
            if not any(m[: len(t)] == t for t in test_only)
        }
    edges = {}
    path_re = re.compile(r"\b((?:crate|super|self)(?:::(?:super|[A-Za-z_][A-Za-z0-9_]*))+)")
    group_re = re.compile(r"\buse\s+((?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)*)::\{([^;]*)\}", re.S)
    for module, f in modules.items():
        text = "\n".join(code_lines(texts[module]))
        paths = [m.group(1) for m in path_re.finditer(text)]
        for m in group_re.finditer(text):
            for item in re.split(r"[,\s]+", m.group(2)):
                item = item.strip("{} ")
                if item and item not in ("self", "*"):
                    paths.append(m.group(1) + "::" + item.split("::")[0])
        for p in paths:
            target = resolve(module, p, modules)
            common = 0
            while common < min(len(module), len(target)) and module[common] == target[common]:
                common += 1
            if common == len(module) or common == len(target):
                continue  # an ancestor or a descendant
            parent = module[:common]
            a, b = module[common], target[common]
            edges.setdefault(parent, {}).setdefault(a, {}).setdefault(b, set()).add(
                "::".join(module) + " -> " + "::".join(target)
            )
    return edges


def cycles(graph):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def workspace_crates():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    members = re.search(r"members\s*=\s*\[(.*?)\]", open(os.path.join(root, "Cargo.toml")).read(), re.S)
    names = re.findall(r'"([^"]+)"', members.group(1))
    return [os.path.join(root, n, d) for n in names for d in ("src", "support", "integration") if os.path.isdir(os.path.join(root, n, d))]


def main():
    args = sys.argv[1:]
    with_tests = "--with-tests" in args
    dirs = [a for a in args if a != "--with-tests"] or workspace_crates()
    found = False
    for src in dirs:
        edges = analyse(src, with_tests)
        print(f"== {src}")
        for parent in sorted(edges):
            name = "::".join(("crate",) + parent)
            for a in sorted(edges[parent]):
                print(f"  {name}: {a} -> {', '.join(sorted(edges[parent][a]))}")
            for group in cycles(edges[parent]):
                found = True
                print(f"  CYCLE under {name}: {' <-> '.join(group)}")
                for a in group:
                    for b in group:
                        for why in sorted(edges[parent].get(a, {}).get(b, ())):
                            print(f"      {why}")
    print("cycles found" if found else "no cycle between sibling modules")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
