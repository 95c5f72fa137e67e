#!/usr/bin/env bash
# corpora.sh: the document corpora the search-quality bench runs on, their
# Debian packages and their query sets (trove/bench/queries/*.tsv).
# Debian 12, as root (or with sudo).
#   scripts/corpora.sh [install]   installs the corpus packages that are missing
#                                  (a second run costs nothing)
#   scripts/corpora.sh list        one line per corpus, TAB-separated:
#                                  name html_root include_globs exclude_globs queries_file
#                                  (globs comma-separated; queries_file relative
#                                  to the repository root)
#   scripts/corpora.sh check       verifies every query file: each line parses
#                                  (kind<TAB>query<TAB>target,target; kind is
#                                  keyword, paraphrase or question), each target
#                                  exists under the corpus root and is neither
#                                  excluded nor outside the include globs; prints
#                                  per-file counts by kind (at least 45 queries,
#                                  14 of each kind); exits 1 on any problem
#
# Globs follow trove's fs source (sources.h): a glob without '/' matches an
# entry's name at any depth (a directory name prunes the whole directory), one
# with '/' matches the path relative to the root, "**" crossing directories.
# The excludes keep only real content pages: no Sphinx _static/_sources/_images/
# _modules (JS, source copies), no search, genindex or table-of-contents pages,
# no duplicate one-page concatenations or redirect stubs.
#
# postgresql-doc-* and apache2-doc are held-out corpora: they are deliberately
# not listed here.
set -euo pipefail

cd "$(dirname "$0")/.."

# name | Debian package | html root | include globs | exclude globs | query file
CORPORA="
python-docs|python3.11-doc|/usr/share/doc/python3.11/html|**/*.html|_static,_sources,_images,_downloads,search.html,genindex*.html,py-modindex.html,contents.html|trove/bench/queries/python-docs.tsv
git-doc|git-doc|/usr/share/doc/git-doc|**/*.html|index.html,howto-index.html,api-index.html|trove/bench/queries/git-doc.tsv
sqlite-doc|sqlite3-doc|/usr/share/doc/sqlite3|**/*.html|syntax,images,search.d,capi3ref.html,session.html,sitemap.html,doclist.html,keyword_index.html,doc_*_crossref.html,hp1.html,sqlite.html|trove/bench/queries/sqlite-doc.tsv
django-doc|python-django-doc|/usr/share/doc/python-django-doc/html|**/*.html|_static,_sources,_images,_modules,search.html,genindex.html,py-modindex.html,contents.html|trove/bench/queries/django-doc.tsv
cmake-doc|cmake-doc|/usr/share/doc/cmake-data/html|**/*.html|_static,_sources,_images,_downloads,search.html,genindex.html|trove/bench/queries/cmake-doc.tsv
"

corpora() { printf '%s\n' "$CORPORA" | sed '/^$/d'; }

install() {
  local missing="" p
  for p in $(corpora | cut -d'|' -f2); do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    echo "corpora: installing$missing" >&2
    local SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq $missing >&2
  fi
}

list() {
  local name pkg root inc exc q
  corpora | while IFS='|' read -r name pkg root inc exc q; do
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$root" "$inc" "$exc" "$q"
  done
}

check() {
  command -v python3 >/dev/null || { echo "corpora: check needs python3 (scripts/deps.sh)" >&2; exit 2; }
  list | python3 -c '
import os, re, sys

def glob_re(g):
    """A glob as a regex over a "/"-separated path: "**/" any directories,
    "*" and "?" within one segment, [...] sets."""
    out, i = "", 0
    while i < len(g):
        if g.startswith("**/", i):
            out += "(?:.*/)?"; i += 3; continue
        if g.startswith("**", i):
            out += ".*"; i += 2; continue
        c = g[i]
        if c == "*": out += "[^/]*"
        elif c == "?": out += "[^/]"
        elif c == "[":
            j = g.find("]", i + 1)
            if j < 0: out += re.escape(c)
            else:
                body = g[i + 1:j]
                if body[:1] in ("!", "^"): body = "^" + body[1:]
                out += "[" + body.replace("\\", "\\\\") + "]"; i = j
        else: out += re.escape(c)
        i += 1
    return re.compile(out + r"\Z")

def excluded(path, globs):
    segs = path.split("/")
    for g in globs:
        rx = glob_re(g)
        if "/" in g:
            # a path glob prunes a directory too: test every prefix
            if any(rx.match("/".join(segs[:k])) for k in range(1, len(segs) + 1)):
                return g
        elif any(rx.match(s) for s in segs):
            return g
    return None

def included(path, globs):
    name = path.rsplit("/", 1)[-1]
    return any(glob_re(g).match(path if "/" in g else name) for g in globs)

KINDS = ("keyword", "paraphrase", "question")
bad = 0
def problem(msg):
    global bad
    bad += 1
    print("corpora: " + msg, file=sys.stderr)

for line in sys.stdin:
    name, root, inc, exc, qfile = line.rstrip("\n").split("\t")
    incs = [g for g in inc.split(",") if g]
    excs = [g for g in exc.split(",") if g]
    if not os.path.isdir(root):
        problem("%s: corpus root %s missing (run scripts/corpora.sh)" % (name, root))
        continue
    if not os.path.isfile(qfile):
        problem("%s: query file %s missing" % (name, qfile))
        continue
    counts = dict.fromkeys(KINDS, 0)
    seen = {}
    with open(qfile, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            text = raw.rstrip("\n")
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            where = "%s:%d" % (qfile, n)
            fields = text.split("\t")
            if len(fields) != 3:
                problem("%s: %d tab-separated fields, want 3 (kind, query, targets)" % (where, len(fields)))
                continue
            kind, query, targets = fields
            if kind not in KINDS:
                problem("%s: kind %r is not one of %s" % (where, kind, ", ".join(KINDS)))
                continue
            if not query.strip():
                problem("%s: empty query" % where)
                continue
            if query.strip().lower() in seen:
                problem("%s: duplicate of the query on line %d" % (where, seen[query.strip().lower()]))
            seen[query.strip().lower()] = n
            tl = [t.strip() for t in targets.split(",")]
            if not targets.strip() or any(not t for t in tl):
                problem("%s: empty target in %r" % (where, targets))
                continue
            ok = True
            for t in tl:
                p = os.path.join(root, t)
                if t.startswith("/") or ".." in t.split("/"):
                    problem("%s: target %s is not a path under the root" % (where, t)); ok = False
                elif not os.path.isfile(p):
                    problem("%s: target %s does not exist under %s" % (where, t, root)); ok = False
                elif excluded(t, excs):
                    problem("%s: target %s is excluded by %s" % (where, t, excluded(t, excs))); ok = False
                elif not included(t, incs):
                    problem("%s: target %s matches no include glob" % (where, t)); ok = False
                elif any(s.startswith(".") for s in t.split("/")):
                    problem("%s: target %s is hidden (not walked)" % (where, t)); ok = False
            if ok:
                counts[kind] += 1
    total = sum(counts.values())
    if total < 45 or min(counts.values()) < 14:
        problem("%s: %d queries (%s); want at least 45, and 14 of each kind" % (qfile, total,
                ", ".join("%s %d" % (k, counts[k]) for k in KINDS)))
    print("%s\t%s\ttotal=%d\t%s" % (name, qfile, total,
          "\t".join("%s=%d" % (k, counts[k]) for k in KINDS)))
sys.exit(1 if bad else 0)
'
}

case "${1:-install}" in
  install) install ;;
  list) list ;;
  check) check ;;
  *) echo "usage: scripts/corpora.sh [install|list|check]" >&2; exit 2 ;;
esac
