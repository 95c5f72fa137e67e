/* item_type.c: the names of item types, the one vocabulary that sources,
 * the store and search share (stored in the items table's type column). */
#include "core.h"

#include <string.h>

static const char *const names[] = {"any", "local", "web", "bookmark"};

const char *trove_item_type_name(trove_item_type t) {
  return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

trove_item_type trove_item_type_parse(const char *s) {
  for (unsigned i = TROVE_ITEM_LOCAL; i <= TROVE_ITEM_BOOKMARK; i++)
    if (s && strcmp(s, names[i]) == 0)
      return (trove_item_type)i;
  return TROVE_ITEM_ANY;
}
