/* when.c: the times a search's since and until bounds are given in, one
 * parser for `trove search --since/--until` and /api/search's since and
 * until, so both take the same forms and refuse the same strings. Dates
 * are local time, as a person names a day; mktime's normalising of a date
 * that does not exist (2024-02-30 to March 1) is caught and refused. */
#include "search.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool trove_search_time_parse(const char *s, bool end_of_day, int64_t *out) {
  if (!s || !*s || !out)
    return false;
  size_t len = strlen(s);
  char unit = s[len - 1];
  if (len > 1 && strchr("hdw", unit) && strspn(s, "0123456789") == len - 1) {
    errno = 0;
    long long n = strtoll(s, NULL, 10);
    long long per = unit == 'h' ? 3600 : unit == 'd' ? 86400 : 7 * 86400;
    if (errno || n > 1000000)
      return false;
    *out = (int64_t)time(NULL) - n * per;
    return true;
  }
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, used = 0;
  char sep = 0;
  bool date_only = sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) == 3 && (size_t)used == len;
  if (!date_only) {
    used = 0;
    int k = sscanf(s, "%4d-%2d-%2d%c%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &used);
    if (k != 6 || (sep != 'T' && sep != ' '))
      return false;
    if ((size_t)used < len) {
      int more = 0;
      if (sscanf(s + used, ":%2d%n", &sec, &more) != 1 || (size_t)(used + more) != len)
        return false;
    }
  }
  struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_isdst = -1,
                  .tm_hour = date_only && end_of_day ? 23 : h,
                  .tm_min = date_only && end_of_day ? 59 : mi,
                  .tm_sec = date_only && end_of_day ? 59 : sec};
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
    return false;
  time_t t = mktime(&tm);
  /* mktime moves 2024-02-30 to March 1: a date that does not exist */
  if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1)
    return false;
  *out = (int64_t)t;
  return true;
}
