"""The documentation keeps up with the code: every environment variable the site reads is in docs/CONFIGURATION.md's
settings table, the README stays a front door (at most 200 lines, with its two commands), and every relative link
in README.md and docs/*.md leads to a file and, for an #anchor, to a heading. Plain file reading: no database."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
CONFIGURATION = DOCS / "CONFIGURATION.md"
SETTINGS = ROOT / "ivssite" / "settings.py"
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
ENV_EXAMPLE = ROOT / ".env.example"
README_MAX_LINES = 200

# django-environ's Env methods that read a variable named by their first argument (env("X") is the call itself).
# The *_config methods parse a value they are given and read nothing.
ENV_READERS = {
    "str", "bytes", "bool", "int", "float", "json", "list", "tuple", "dict", "url", "path", "get_value",
    "db", "db_url", "cache", "cache_url", "email", "email_url", "search_url",
}  # fmt: skip
# Read by boto3 rather than by the settings; the table names them in its "AWS credentials" row.
READ_BY_BOTO3 = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"}


# --- Which environment variables the code reads ---------------------------------------------------------------


def _text(node, bindings):
    """The string an expression evaluates to, given the helper's parameters; None when it cannot be told."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return bindings.get(node.id)
    if isinstance(node, ast.JoinedStr):
        parts = [_text(v.value if isinstance(v, ast.FormattedValue) else v, bindings) for v in node.values]
        return None if None in parts else "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left, bindings), _text(node.right, bindings)
        return None if left is None or right is None else left + right
    return None


def _is_os_environ(node) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and _is_name(node.value, "os")


def _is_name(node, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _env_object_names(tree) -> set[str]:
    """The names bound to environ.Env(): `env = environ.Env()`."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Attribute) and func.attr == "Env" and _is_name(func.value, "environ"):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names or {"env"}


def _name_argument(node, env_names):
    """For a read of the environment, the expression naming the variable; None for anything else."""
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _is_os_environ(node.value):
        return node.slice  # os.environ["X"]
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    if isinstance(func, ast.Name) and func.id in env_names:
        return node.args[0]  # env("X")
    if isinstance(func, ast.Attribute):
        if func.attr in ENV_READERS and isinstance(func.value, ast.Name) and func.value.id in env_names:
            return node.args[0]  # env.bool("X"), env.db("X")…
        if func.attr == "get" and _is_os_environ(func.value):
            return node.args[0]  # os.environ.get("X")
        if func.attr == "getenv" and _is_name(func.value, "os"):
            return node.args[0]  # os.getenv("X")
    return None


def _reads(nodes, bindings, helpers, env_names, where, unknown, depth=0):
    """Variable names read by these statements, following calls into the module's own helper functions."""
    names = set()
    for statement in nodes:
        for node in ast.walk(statement):
            argument = _name_argument(node, env_names)
            if argument is not None:
                name = _text(argument, bindings)
                if name is None:
                    unknown.append(f"{where}:{node.lineno}")
                else:
                    names.add(name)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in helpers:
                helper = helpers[node.func.id]
                if depth > 5:
                    continue
                parameters = [a.arg for a in helper.args.args]
                inner = {p: _text(a, bindings) for p, a in zip(parameters, node.args, strict=False)}
                inner.update({k.arg: _text(k.value, bindings) for k in node.keywords if k.arg})
                names |= _reads(helper.body, inner, helpers, env_names, where, unknown, depth + 1)
    return names


def _module_reads(path: Path, unknown: list) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    helpers = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    top_level = [n for n in tree.body if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    env_names = _env_object_names(tree)
    where = str(path.relative_to(ROOT))
    names = _reads(top_level, {}, helpers, env_names, where, unknown)
    # Functions the module never calls itself (hooks such as gunicorn's post_fork) may still read the environment.
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    uncalled = [h for name, h in helpers.items() if name not in called]
    return names | _reads(uncalled, {}, helpers, env_names, where, unknown)


def _site_modules_settings_imports() -> list[Path]:
    """ivssite/ modules that settings.py imports: helpers it builds settings with."""
    tree = ast.parse(SETTINGS.read_text())
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "ivssite":
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ivssite."):
            modules.add(node.module.split(".", 1)[1].split(".")[0])
        elif isinstance(node, ast.Import):
            modules |= {a.name.split(".")[1] for a in node.names if a.name.startswith("ivssite.")}
    return sorted(p for p in (ROOT / "ivssite" / f"{m}.py" for m in modules) if p.exists())


def variables_read() -> tuple[set[str], list[str]]:
    unknown: list[str] = []
    names = set()
    for path in [SETTINGS, *_site_modules_settings_imports(), GUNICORN_CONF]:
        names |= _module_reads(path, unknown)
    return names, unknown


def env_example_variables() -> set[str]:
    """NAME=value lines of .env.example, commented-out ones too (# SECURE_SSL_REDIRECT=true)."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), flags=re.M))


# --- docs/CONFIGURATION.md's settings table ---------------------------------------------------------------------


def settings_table() -> list[list[str]]:
    """The rows (cells) of the first table under the heading "## Settings", header included."""
    lines = CONFIGURATION.read_text().splitlines()
    start = lines.index("## Settings")
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
        elif rows:
            break
    return rows


def documented_variables() -> set[str]:
    names = set()
    for row in settings_table()[2:]:
        names |= set(re.findall(r"`([A-Z][A-Z0-9_]*)`", row[0]))
    return names


# --- Markdown ----------------------------------------------------------------------------------------------------


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def _without_code(text: str) -> str:
    """The text with fenced blocks and code spans blanked out (links and headings inside code are not links)."""
    text = re.sub(r"^```.*?^```[^\n]*$", "", text, flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "``", text)


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`([^`]*)`", r"\1", heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    text = re.sub(r"^```.*?^```[^\n]*$", "", path.read_text(), flags=re.M | re.S)
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, flags=re.M):
        slug = github_slug(heading)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def links(path: Path) -> list[str]:
    text = _without_code(path.read_text())
    inline = re.findall(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", text)
    reference = re.findall(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", text, flags=re.M)
    return inline + reference


def broken_links() -> list[str]:
    broken = []
    for path in markdown_files():
        where = path.relative_to(ROOT)
        for target in links(path):
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
                continue  # https:, mailto:…: not this repository's
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            if not linked.exists():
                broken.append(f"{where}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{where}: {target} (no heading with that anchor in {linked.relative_to(ROOT)})")
    return broken


# --- The tests -------------------------------------------------------------------------------------------------


def test_every_variable_the_site_reads_is_in_the_settings_table():
    read, unknown = variables_read()
    assert not unknown, f"cannot tell which variable these lines read (name it with a string): {unknown}"
    assert {"DEBUG", "SECRET_KEY_FILE", "EMAIL_URL_FILE", "STRIPE_WEBHOOK_SECRET_FILE", "WEB_CONCURRENCY"} <= read
    missing = sorted(read - documented_variables())
    assert not missing, f"read by the site but missing from docs/CONFIGURATION.md's settings table: {missing}"


def test_every_variable_in_env_example_is_in_the_settings_table():
    missing = sorted(env_example_variables() - documented_variables())
    assert not missing, f"in .env.example but missing from docs/CONFIGURATION.md's settings table: {missing}"


def test_the_settings_table_names_no_variable_the_site_no_longer_reads():
    read, _ = variables_read()
    stale = sorted(documented_variables() - read - READ_BY_BOTO3)
    assert not stale, f"in docs/CONFIGURATION.md's settings table but read by nothing: {stale}"


def test_every_row_of_the_settings_table_has_a_default_and_a_meaning():
    header, _separator, *rows = settings_table()
    assert header == ["variable", "default", "what it does"]
    incomplete = [row[0] for row in rows if len(row) != 3 or not all(row)]
    assert not incomplete, f"rows without a default or a meaning: {incomplete}"


def test_the_readme_is_a_front_door():
    lines = README.read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move detail into docs/"
    commands = [line.split("#")[0].strip() for line in lines]
    assert "make run" in commands and "make test" in commands, "README.md must give `make run` and `make test`"


def test_every_relative_link_leads_to_a_file_and_a_heading():
    broken = broken_links()
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_github_slugs():
    assert github_slug("Revocation: the withdrawal guarantee") == "revocation-the-withdrawal-guarantee"
    assert github_slug("In the site's admin") == "in-the-sites-admin"
    assert github_slug("`ivs_verify`") == "ivs_verify"
    assert github_slug("Tokens, long sessions, revocation and device limits") == (
        "tokens-long-sessions-revocation-and-device-limits"
    )
