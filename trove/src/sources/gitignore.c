/* gitignore.c: parsing and matching the rules of one .gitignore file, the way
 * git does (gitignore(5)), so that an fs source skips what the user's
 * repository skips. fs_walk.c keeps one parsed file per directory level that
 * has one and asks them deepest first.
 *
 * HOW IT WORKS. Parsing turns each line into a rule:
 * - blank lines and lines starting with '#' are skipped ("\#" is a literal
 *   '#'); trailing spaces are cut unless escaped ("a\ ");
 * - a leading '!' negates the rule: a match re-includes ("\!" is a literal);
 * - a trailing '/' makes the rule match directories only, and is dropped;
 * - a '/' at the start or in the middle ANCHORS the rule: it is matched
 *   against the whole path relative to the .gitignore's directory (the
 *   leading '/' dropped); an unanchored rule is matched against the last
 *   path segment, at any depth;
 * - the rest is a glob (glob.c): '*' '?' '[...]' stay within a segment,
 *   "**" as a whole segment spans directories, '\' escapes.
 * Matching walks the rules from last to first; the first that matches
 * decides, so a later rule overrides an earlier one, as in git. A path no
 * rule matches is left to the parent directory's .gitignore (fs_walk.c asks
 * each level, deepest first, and the deepest deciding level wins).
 *
 * INVARIANTS. Rule patterns point into one private copy of the file's text,
 * NUL-terminated in place; a parsed file is immutable, so any number of
 * threads may match against it.
 *
 * LIMITS.
 * - As in git, a file inside an ignored directory cannot be re-included:
 *   the walker never enters an ignored directory, so "!dir/keep" after
 *   "dir/" has no effect (write "dir/" + "*" then "!dir/keep" instead).
 * - Only .gitignore files inside the source directory are read: not
 *   $GIT_DIR/info/exclude, core.excludesFile, nor a .gitignore above the
 *   source directory in an enclosing repository.
 * - POSIX classes ([[:space:]]) and git's case-insensitive mode
 *   (core.ignoreCase) are not supported; a line with a malformed glob
 *   (unclosed '[') is ignored rather than matched literally.
 */
#include "sources.h"

#include <string.h>

typedef struct rule {
  const char *pat; /* the glob, NUL-terminated inside text */
  bool negate;     /* "!pat": a match re-includes */
  bool dir_only;   /* "pat/": matches directories only */
  bool anchored;   /* held a '/' before its end: match the whole path */
} rule;

struct trove_gitignore {
  char *text; /* private copy of the file; patterns point into it */
  rule *rules;
  size_t n;
};

/* Cuts one line (without '\r') into a rule. False for blank/comment lines
 * and invalid globs. line is modified in place (NULs written). */
static bool parse_line(char *line, size_t len, rule *r) {
  if (len > 0 && line[len - 1] == '\r')
    len--;
  while (len > 0 && line[len - 1] == ' ' && !(len >= 2 && line[len - 2] == '\\'))
    len--;
  if (len == 0 || line[0] == '#')
    return false;
  memset(r, 0, sizeof *r);
  if (line[0] == '!') {
    r->negate = true;
    line++, len--;
  }
  if (len > 0 && line[len - 1] == '/') {
    r->dir_only = true;
    len--;
  }
  line[len] = '\0';
  if (memchr(line, '/', len))
    r->anchored = true;
  if (line[0] == '/')
    line++, len--;
  if (len == 0 || !trove_glob_valid(line))
    return false;
  r->pat = line;
  return true;
}

int trove_gitignore_parse(const char *text, size_t len, trove_gitignore **out) {
  if (!out || (!text && len > 0))
    return TROVE_EINVAL;
  *out = NULL;
  size_t lines = 1, n_rules;
  for (size_t i = 0; i < len; i++)
    lines += text[i] == '\n';
  trove_gitignore *gi = trove_calloc(1, sizeof *gi);
  if (!gi)
    return TROVE_ENOMEM;
  size_t bytes;
  gi->text = trove_malloc(len + 1);
  if (!gi->text || !trove_mul_ok(lines, sizeof(rule), &bytes))
    goto fail_free_gi;
  gi->rules = trove_malloc(bytes);
  if (!gi->rules)
    goto fail_free_gi;
  if (len > 0)
    memcpy(gi->text, text, len);
  gi->text[len] = '\0';
  n_rules = 0;
  for (size_t start = 0; start <= len;) {
    char *nl = memchr(gi->text + start, '\n', len - start);
    size_t end = nl ? (size_t)(nl - gi->text) : len;
    if (parse_line(gi->text + start, end - start, &gi->rules[n_rules]))
      n_rules++;
    start = end + 1;
  }
  gi->n = n_rules;
  *out = gi;
  return 0;

fail_free_gi:
  trove_gitignore_free(gi);
  return TROVE_ENOMEM;
}

void trove_gitignore_free(trove_gitignore *gi) {
  if (!gi)
    return;
  trove_free(gi->text);
  trove_free(gi->rules);
  trove_free(gi);
}

int trove_gitignore_match(const trove_gitignore *gi, const char *rel, bool is_dir) {
  if (!gi || !rel)
    return 0;
  const char *slash = strrchr(rel, '/');
  const char *base = slash ? slash + 1 : rel;
  for (size_t i = gi->n; i-- > 0;) {
    const rule *r = &gi->rules[i];
    if (r->dir_only && !is_dir)
      continue;
    if (trove_glob_match(r->pat, r->anchored ? rel : base))
      return r->negate ? -1 : 1;
  }
  return 0;
}
