#!/usr/bin/env python3
"""Import circles between the files of a crate: two files (or more) that
reach each other through `use` or a path written in the code.

    python3 .ci/imports.py core/src/lib.rs runtime/src/lib.rs ...

Each argument is a crate root. The module tree is read from its `mod`
declarations (with `#[path = "..."]`); every path that starts with `crate::`,
`super::`, `self::` or a child module's name is resolved to the file that
defines its target, following re-exports (`pub use a::B;` sends `B` on to
a.rs). A parent declaring `mod child;` is not an import; a parent that uses
an item of its child is. Comments and string literals are ignored, test
modules are not: a test that reaches back into a file that imports it is a
circle too. Prints every circle and exits 1 when there is one.
"""
import os
import re
import sys

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip(text):
    """Comments, string and char literals removed (kept as blanks)."""
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
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and (i == 0 or not re.match(r"[A-Za-z0-9_]", text[i - 1])):
            m = re.match(r'r(#*)"', text[i:])
            end = '"' + m.group(1)
            j = text.find(end, i + len(m.group(0)))
            i = n if j < 0 else j + len(end)
            out.append('""')
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            out.append('""')
        elif c == "'":
            m = re.match(r"'(\\.|\\u\{[0-9a-fA-F]+\}|[^\\'])'", text[i:])
            if m:
                i += len(m.group(0))
                out.append("' '")
            else:  # a lifetime
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


class Module:
    def __init__(self, path, file, parent):
        self.path = path  # tuple of names from the crate root
        self.file = file
        self.parent = parent
        self.children = {}
        self.reexports = {}  # name -> absolute path (tuple) or None (external)
        self.code = ""


def child_file(module, name, attr_path):
    base = os.path.dirname(module.file)
    stem = os.path.basename(module.file)[:-3]
    if attr_path:
        return os.path.normpath(os.path.join(base, attr_path))
    if stem in ("lib", "main", "mod") or module.parent is None:
        folder = base
    else:
        folder = os.path.join(base, stem)
    for candidate in (os.path.join(folder, name + ".rs"), os.path.join(folder, name, "mod.rs")):
        if os.path.exists(candidate):
            return candidate
    return None


MOD_DECL = re.compile(r'(#\[path\s*=\s*"([^"]+)"\]\s*)?(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(' + IDENT + r')\s*;')
INLINE_MOD = re.compile(r'(?:pub(?:\([^)]*\))?\s+)?mod\s+(' + IDENT + r')\s*\{')


def load(root_file):
    modules = {}

    def visit(module):
        raw = open(module.file, encoding="utf-8").read()
        # #[path] values are string literals: read them before stripping.
        decls = [(m.group(3), m.group(2)) for m in MOD_DECL.finditer(strip_keep_path(raw))]
        module.code = strip(raw)
        modules[module.path] = module
        for name, attr in decls:
            file = child_file(module, name, attr)
            if file is None:
                continue
            child = Module(module.path + (name,), file, module)
            module.children[name] = child
            visit(child)
        for m in INLINE_MOD.finditer(module.code):
            # An inline module (tests) stays in its parent's file.
            module.children.setdefault(m.group(1), Module(module.path + (m.group(1),), module.file, module))
            modules.setdefault(module.path + (m.group(1),), module.children[m.group(1)])

    root = Module((), root_file, None)
    visit(root)
    return modules


def strip_keep_path(raw):
    # Comments out, strings kept (for #[path = "..."]).
    return re.sub(r"//[^\n]*", "", raw)


def use_trees(code):
    """Every `use` tree, flattened into paths (tuples of segments)."""
    paths = []
    for m in re.finditer(r"\buse\s+([^;]+);", code):
        paths.extend(expand(m.group(1).replace("\n", " ")))
    return paths


def expand(tree):
    tree = tree.strip()
    if tree.startswith("::"):
        tree = tree[2:]
    depth, split_at = 0, None
    for i, c in enumerate(tree):
        if c == "{":
            if depth == 0 and split_at is None:
                split_at = i
            depth += 1
        elif c == "}":
            depth -= 1
    if split_at is None:
        tree = re.sub(r"\s+as\s+" + IDENT + r"$", "", tree)
        segs = [s.strip() for s in tree.split("::") if s.strip()]
        return [tuple(segs)] if segs else []
    prefix = [s.strip() for s in tree[:split_at].split("::") if s.strip()]
    inner = tree[split_at + 1: tree.rfind("}")]
    parts, depth, start = [], 0, 0
    for i, c in enumerate(inner):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    parts.append(inner[start:])
    out = []
    for part in parts:
        if not part.strip():
            continue
        for sub in expand(part):
            if sub == ("self",):
                out.append(tuple(prefix))
            else:
                out.append(tuple(prefix) + sub)
    return out


def absolute(module, path):
    """`path` as written in `module`, from the crate root; None if external."""
    if not path:
        return None
    head = path[0]
    if head == "crate":
        return path[1:]
    if head in ("super", "self"):
        base = module.path
        while path and path[0] in ("super", "self"):
            if path[0] == "super":
                base = base[:-1]
            path = path[1:]
        return base + tuple(path)
    if head in module.children:
        return module.path + tuple(path)
    return None


def collect_reexports(modules):
    for module in modules.values():
        for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", module.code):
            text = m.group(1).replace("\n", " ")
            for path in expand(text):
                # `pub use x::Y as Z`: the alias is what others write.
                alias = path[-1]
                am = re.search(re.escape("::".join(path[-2:]) if len(path) > 1 else path[-1]) + r"\s+as\s+(" + IDENT + r")", text)
                if am:
                    alias = am.group(1)
                if path[-1] == "*":
                    continue
                module.reexports[alias] = absolute(module, path)


def resolve(modules, path, seen=None):
    """The file defining `path` (absolute), or None (external, unknown)."""
    seen = seen or set()
    module = modules[()]
    for i, seg in enumerate(path):
        if seg in module.children:
            module = module.children[seg]
            continue
        if seg in module.reexports and (module.path, seg) not in seen:
            target = module.reexports[seg]
            if target is None:
                return None
            seen.add((module.path, seg))
            return resolve(modules, target + tuple(path[i + 1:]), seen)
        return module.file
    return module.file


def inline_regions(code):
    """(name, start, end) of each inline `mod name { ... }` in `code`."""
    regions = []
    for m in INLINE_MOD.finditer(code):
        depth, i = 0, m.end() - 1
        while i < len(code):
            if code[i] == "{":
                depth += 1
            elif code[i] == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        regions.append((m.group(1), m.end(), i))
    return regions


def paths_in(code, module):
    paths = use_trees(code)
    without_uses = re.sub(r"\buse\s+[^;]+;", "", code)
    for m in re.finditer(r"\b((?:crate|super|self)(?:\s*::\s*" + IDENT + r")+)", without_uses):
        paths.append(tuple(s.strip() for s in m.group(1).split("::")))
    for m in re.finditer(r"(?<![:\w])(" + IDENT + r")\s*::\s*(" + IDENT + r")", without_uses):
        if m.group(1) in module.children:
            paths.append((m.group(1), m.group(2)))
    return paths


def references(module):
    """(the module a path is written in, the path): an inline module's
    paths are its own (`super` there is the file's module)."""
    code = module.code
    found = []
    outside, last = [], 0
    for name, start, end in inline_regions(code):
        outside.append(code[last:start])
        last = end
        inner = module.children.get(name)
        if inner is not None and inner.file == module.file:
            found.extend((inner, path) for path in paths_in(code[start:end], inner))
    outside.append(code[last:])
    found.extend((module, path) for path in paths_in("".join(outside), module))
    return found


def edges(modules):
    graph = {}
    for module in modules.values():
        if module.parent is not None and module.file == module.parent.file:
            continue  # an inline module: read with its file
        for written_in, path in references(module):
            target_path = absolute(written_in, path)
            if target_path is None:
                continue
            target = resolve(modules, target_path)
            if target and target != module.file:
                graph.setdefault(module.file, set()).add(target)
    return graph


def circles(graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
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

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            strong(v)
    return out


def main(roots):
    failed = False
    for root in roots:
        modules = load(root)
        collect_reexports(modules)
        graph = edges(modules)
        for group in circles(graph):
            failed = True
            pairs = [f"{a} <-> {b}" for a in group for b in group if a < b and b in graph.get(a, ()) and a in graph.get(b, ())]
            print(f"import circle in {os.path.dirname(root)}: {', '.join(group)}")
            for pair in pairs:
                print(f"    {pair}")
    if not failed:
        print(f"no import circles in {len(roots)} crate(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
