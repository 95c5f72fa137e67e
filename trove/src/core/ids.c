/* ids.c: lists of row ids, as the search's and the vector sync's filters
 * use them. */
#include "core.h"

bool trove_ids_contain(const int64_t *v, size_t n, int64_t id) {
  size_t lo = 0, hi = n; /* the answer, if any, is in v[lo, hi) */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (v[mid] == id)
      return true;
    if (v[mid] < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return false;
}
