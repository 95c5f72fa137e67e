/* glob.c: glob matching over '/'-separated paths, with "**" for any number of
 * directories. Used by fs sources for include/exclude globs and by
 * gitignore.c for .gitignore patterns, so it follows git's wildmatch rules.
 *
 * HOW IT WORKS. Two levels of the same greedy-with-backtrack algorithm that
 * matches '*' in linear-ish time without recursion:
 * - within a segment, '*' remembers where it started and, on a mismatch,
 *   retries one character further (classic wildcard matching);
 * - across segments, a "**" segment remembers the pattern and path segment
 *   positions and, when a later segment fails, swallows one more path
 *   segment and retries.
 * Only the latest '*' (or "**") needs to be remembered: any earlier one can
 * only have matched less, which the later retry also covers. So the cost is
 * O(pattern x path) at worst, never exponential, whatever the input.
 *
 * Segments are compared in place (pointer + length), so matching allocates
 * nothing and is safe from any thread. fnmatch(3) was rejected because it
 * needs NUL-terminated segments (a copy per segment per entry walked).
 *
 * LIMITS: no POSIX classes ([[:alpha:]]), no brace alternatives ({a,b}).
 */
#include "sources.h"

#include <string.h>

/* A run of bytes: one path or pattern segment. */
typedef struct span {
  const char *p;
  size_t n;
} span;

/* Matches the set starting at pat[i] ('[' already seen at i-1) against c.
 * Returns the index after ']' and sets *hit, or 0 when the set is unclosed. */
static size_t set_match(span pat, size_t i, unsigned char c, bool *hit) {
  bool neg = false, found = false;
  if (i < pat.n && (pat.p[i] == '!' || pat.p[i] == '^')) {
    neg = true;
    i++;
  }
  size_t first = i;
  while (i < pat.n && (pat.p[i] != ']' || i == first)) {
    unsigned char lo = (unsigned char)pat.p[i];
    if (lo == '\\') {
      if (++i >= pat.n)
        return 0;
      lo = (unsigned char)pat.p[i];
    }
    unsigned char hi = lo;
    if (i + 2 < pat.n && pat.p[i + 1] == '-' && pat.p[i + 2] != ']') {
      i += 2;
      hi = (unsigned char)pat.p[i];
      if (hi == '\\') {
        if (++i >= pat.n)
          return 0;
        hi = (unsigned char)pat.p[i];
      }
    }
    if (c >= lo && c <= hi)
      found = true;
    i++;
  }
  if (i >= pat.n)
    return 0; /* no closing ']' */
  *hit = found != neg;
  return i + 1;
}

/* Matches one pattern segment against one path segment (neither holds '/'). */
static bool seg_match(span pat, span s) {
  size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;
  while (si < s.n) {
    if (pi < pat.n) {
      char pc = pat.p[pi];
      if (pc == '*') {
        while (pi < pat.n && pat.p[pi] == '*')
          pi++;
        star_p = pi;
        star_s = si;
        continue;
      }
      size_t next = pi + 1;
      bool hit = true; /* '?' matches any one character */
      if (pc == '[') {
        next = set_match(pat, pi + 1, (unsigned char)s.p[si], &hit);
        if (next == 0)
          return false; /* malformed: matches nothing */
      } else if (pc != '?') {
        if (pc == '\\') {
          if (pi + 1 >= pat.n)
            return false;
          pc = pat.p[pi + 1];
          next = pi + 2;
        }
        hit = pc == s.p[si];
      }
      if (hit) {
        pi = next;
        si++;
        continue;
      }
    }
    if (star_p == SIZE_MAX)
      return false;
    pi = star_p; /* let the last '*' swallow one more character */
    si = ++star_s;
  }
  while (pi < pat.n && pat.p[pi] == '*')
    pi++;
  return pi == pat.n;
}

/* The segment of str starting at *pos. Advances *pos past it and its '/', or
 * to len + 1 after the last segment: "done" is *pos > len. Every string, even
 * "", has at least one (possibly empty) segment. */
static span next_seg(const char *str, size_t len, size_t *pos) {
  span sp = {str + *pos, 0};
  while (*pos + sp.n < len && str[*pos + sp.n] != '/')
    sp.n++;
  *pos += sp.n + 1;
  return sp;
}

static bool is_globstar(span sp) { return sp.n == 2 && sp.p[0] == '*' && sp.p[1] == '*'; }

bool trove_glob_match(const char *pat, const char *path) {
  if (!pat || !path || !trove_glob_valid(pat))
    return false;
  size_t plen = strlen(pat), slen = strlen(path);
  size_t pp = 0, sp = 0;                  /* next segment of pat and path */
  size_t star_pp = SIZE_MAX, star_sp = 0; /* after the last "**" seen */
  while (pp <= plen || sp <= slen) {
    if (pp <= plen) {
      size_t pstart = pp;
      span ps = next_seg(pat, plen, &pp);
      if (is_globstar(ps)) {
        if (pp > plen) /* trailing: "**" alone matches all, "a/" + "**" needs a segment */
          return pstart == 0 || sp <= slen;
        star_pp = pp; /* first try matching zero segments */
        star_sp = sp;
        continue;
      }
      if (sp <= slen && seg_match(ps, next_seg(path, slen, &sp)))
        continue;
    }
    /* a segment differs or one side ran out: the last "**" takes one more */
    if (star_pp == SIZE_MAX)
      return false;
    next_seg(path, slen, &star_sp);
    if (star_sp > slen)
      return false; /* nothing left for the segments after the "**" */
    pp = star_pp;
    sp = star_sp;
  }
  return true;
}

bool trove_glob_valid(const char *pat) {
  if (!pat)
    return false;
  size_t n = strlen(pat);
  for (size_t i = 0; i < n; i++) {
    if (pat[i] == '\\') {
      if (i + 1 >= n)
        return false;
      i++;
    } else if (pat[i] == '[') {
      /* a set must close within its segment */
      size_t j = i + 1;
      if (j < n && (pat[j] == '!' || pat[j] == '^'))
        j++;
      if (j < n && pat[j] == ']')
        j++;
      while (j < n && pat[j] != ']' && pat[j] != '/')
        j += (pat[j] == '\\' && j + 1 < n) ? 2 : 1;
      if (j >= n || pat[j] != ']')
        return false;
      i = j;
    }
  }
  return true;
}
