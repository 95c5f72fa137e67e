/* vocab.c: the SentencePiece vocabulary of USE-lite (vocab.json, a JSON
 * array of [piece, score] pairs; the index is the token id) and the trie the
 * tokenizer walks.
 *
 * The trie is keyed by Unicode code points, as the reference's (a JavaScript
 * object per node, keyed by the characters of `for...of`). Its edges live in
 * one open-addressing hash table keyed by (parent node, code point): 8,000
 * pieces make about 25,000 edges, so the table is small, built in one pass
 * and a step costs one hash probe, where per-node child arrays would need a
 * sort and a binary search. Quirks of the shipped file that the reference
 * tolerates, and so must we: seven pieces have a null score (JavaScript adds
 * null as 0), one piece appears three times (the last insert wins), and
 * ":30" scores +30.
 */
#include "model_int.h"

#include "json.h"

#include <string.h>

enum { MAX_PIECES = 1 << 20 };

void trove_model__vocab_free(use_vocab *v) {
  if (!v)
    return;
  trove_free(v->score);
  trove_free(v->utf16_len);
  trove_free(v->node_piece);
  trove_free(v->slots);
  memset(v, 0, sizeof *v);
}

static size_t slot_of(uint32_t parent, uint32_t cp, size_t mask) {
  uint64_t h = ((uint64_t)parent << 32 | cp) * 0x9E3779B97F4A7C15ull;
  return (size_t)(h >> 40) & mask;
}

long trove_model__trie_child(const use_vocab *v, uint32_t node, uint32_t cp) {
  for (size_t i = slot_of(node, cp, v->mask);; i = (i + 1) & v->mask) {
    const use_trie_slot *s = &v->slots[i];
    if (s->parent == 0)
      return -1;
    if (s->parent == node + 1 && s->cp == cp)
      return s->child;
  }
}

/* Decodes one code point of valid UTF-8 (the JSON parser checked it). */
static uint32_t next_cp(const unsigned char **p) {
  const unsigned char *s = *p;
  uint32_t c = s[0];
  size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  if (n > 1)
    c &= 0x3Fu >> (n - 1);
  for (size_t i = 1; i < n; i++)
    c = c << 6 | (s[i] & 0x3Fu);
  *p = s + n;
  return c;
}

/* Adds the edge node --cp--> child, or finds it; returns the child. */
static uint32_t edge(use_vocab *v, uint32_t node, uint32_t cp) {
  size_t i = slot_of(node, cp, v->mask);
  for (;; i = (i + 1) & v->mask) {
    use_trie_slot *s = &v->slots[i];
    if (s->parent == node + 1 && s->cp == cp)
      return s->child;
    if (s->parent == 0)
      break;
  }
  uint32_t child = (uint32_t)v->nodes++;
  v->node_piece[child] = -1;
  v->slots[i] = (use_trie_slot){.parent = node + 1, .cp = cp, .child = child};
  return child;
}

/* Checks every entry and fills scores and lengths; *cps gets the code
 * points of the trie's pieces (an upper bound on its edges). */
static int read_entries(const trove_json *root, size_t reserved, use_vocab *v, size_t *cps,
                        trove_err *err) {
  *cps = 0;
  for (size_t i = 0; i < v->n; i++) {
    const trove_json *e = trove_json_at(root, i), *piece = trove_json_at(e, 0),
                     *score = trove_json_at(e, 1);
    trove_json_type st = trove_json_type_of(score);
    if (trove_json_type_of(e) != TROVE_JSON_ARRAY || trove_json_len(e) != 2 ||
        trove_json_type_of(piece) != TROVE_JSON_STRING ||
        (st != TROVE_JSON_NUMBER && st != TROVE_JSON_NULL))
      return trove_err_set(err, TROVE_ECORRUPT,
                           "vocab.json entry %zu is not a [piece, score] pair; the vocabulary is "
                           "damaged, reinstall the model (scripts/fetch-model.sh)", i);
    if (i >= reserved && trove_json_str_len(piece) == 0)
      return trove_err_set(err, TROVE_ECORRUPT,
                           "vocab.json entry %zu is an empty piece; the vocabulary is damaged", i);
    v->score[i] = trove_json_num(score, 0);
    const unsigned char *p = (const unsigned char *)trove_json_str(piece, "");
    const unsigned char *end = p + trove_json_str_len(piece);
    uint32_t u16 = 0;
    while (p < end) {
      uint32_t c = next_cp(&p);
      u16 += c >= 0x10000 ? 2 : 1;
      if (i >= reserved)
        ++*cps;
    }
    v->utf16_len[i] = u16;
  }
  return 0;
}

static int build_trie(const trove_json *root, size_t reserved, size_t cps, use_vocab *v,
                      trove_err *err) {
  size_t slots = 16;
  while (slots < 2 * cps + 2)
    slots *= 2;
  v->slots = trove_calloc(slots, sizeof *v->slots);
  v->node_piece = trove_malloc((cps + 1) * sizeof *v->node_piece);
  if (!v->slots || !v->node_piece)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory building the vocabulary trie");
  v->mask = slots - 1;
  v->nodes = 1;
  v->node_piece[0] = -1;
  for (size_t i = reserved; i < v->n; i++) {
    const trove_json *piece = trove_json_at(trove_json_at(root, i), 0);
    const unsigned char *p = (const unsigned char *)trove_json_str(piece, "");
    const unsigned char *end = p + trove_json_str_len(piece);
    uint32_t node = 0;
    while (p < end)
      node = edge(v, node, next_cp(&p));
    v->node_piece[node] = (int32_t)i; /* a later duplicate wins, as in the reference */
  }
  return 0;
}

int trove_model__vocab_parse(const char *json, size_t len, size_t reserved, use_vocab *v,
                             trove_err *err) {
  memset(v, 0, sizeof *v);
  trove_json_doc *doc = NULL;
  trove_err jerr = {0};
  int rc = trove_json_parse(json, len, 0, &doc, &jerr);
  if (rc == TROVE_ENOMEM)
    return trove_err_set(err, rc, "out of memory reading vocab.json");
  if (rc)
    return trove_err_set(err, TROVE_ECORRUPT, "vocab.json is damaged (%s); reinstall the model "
                         "(scripts/fetch-model.sh)", jerr.msg);
  const trove_json *root = trove_json_root(doc);
  v->n = trove_json_len(root);
  if (trove_json_type_of(root) != TROVE_JSON_ARRAY || v->n <= reserved || v->n > MAX_PIECES) {
    rc = trove_err_set(err, TROVE_ECORRUPT,
                       "vocab.json must be an array of %zu to %d [piece, score] pairs; it is "
                       "damaged, reinstall the model (scripts/fetch-model.sh)",
                       reserved + 1, MAX_PIECES);
    goto out_free_doc;
  }
  v->score = trove_malloc(v->n * sizeof *v->score);
  v->utf16_len = trove_malloc(v->n * sizeof *v->utf16_len);
  if (!v->score || !v->utf16_len) {
    rc = trove_err_set(err, TROVE_ENOMEM, "out of memory reading vocab.json");
    goto out_free_doc;
  }
  size_t cps;
  rc = read_entries(root, reserved, v, &cps, err);
  if (!rc)
    rc = build_trie(root, reserved, cps, v, err);
out_free_doc:
  trove_json_free(doc);
  if (rc)
    trove_model__vocab_free(v);
  return rc;
}
