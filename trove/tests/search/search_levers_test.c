/* search_levers_test.c: the query-adaptive fusion levers of search.h
 * (all_words_boost, no_match_semantic, keyword_margin, cosine_window), each
 * on a tiny real collection (the USE-lite model, a temporary store, an
 * in-memory index) where turning it on must change the order the expected
 * way, and leaving it off must not; and the title weight each mode takes
 * when w_title is 0 (10 keyword, 20 hybrid). Each test first checks the premises its
 * arithmetic needs (which item is the keyword favourite, which the semantic
 * one, how far apart the cosines are), so a model change that breaks a
 * premise says so rather than failing on the order. TROVE_LEVERS_SHOW=1
 * prints every ranked list. */
#include "search.h"

#include "passage.h"

#include "check.h"

#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static trove_embedder *emb;
static trove_store *st;
static trove_index *idx;
static char dir[64], db[128];
static int64_t src;
static bool show_all;

typedef struct doc {
  const char *ext, *title, *text;
  int64_t id;
} doc;

enum { LEDGER, LUTHIER, LOST, SKY, MINUTES, AIRSHIPS, HISTORY, STARTER, TAX, STREET, N_DOCS };

static doc docs[N_DOCS] = {
    [LEDGER] = {"ledger.md", "Household ledger",
                "March expenses: plumber call-out, new car tyres, violin lessons for Anna, roof "
                "repair deposit, groceries and the electricity bill.", 0},
    [LUTHIER] = {"luthier.md", "At the luthier",
                 "Fixing a violin: glue the cracked spruce top, fit a new bridge, reset the "
                 "soundpost and put on fresh strings.", 0},
    [LOST] = {"lost.md", "Lost property",
              "Found on the bus this week: a telescope eyepiece in a small box, one umbrella, a "
              "blue scarf and a ring of keys.", 0},
    [SKY] = {"sky.md", "Watching the night sky",
             "Find a dark field far from city lights, let your eyes adapt for twenty minutes, and "
             "look for planets, nebulae and constellations.", 0},
    [MINUTES] = {"minutes.md", "Zeppelin hangar",
                 "Minutes of the allotment committee: plot fees rise in May, the compost bins move "
                 "to the north gate, and the new tool shed gets a padlock.", 0},
    [AIRSHIPS] = {"airships.md", "Airship hangars",
                  "Giant airships were kept in enormous sheds at the airfield, where ground crews "
                  "filled the gas cells with hydrogen before each flight.", 0},
    /* long, so its one mention of each word weighs little in BM25 */
    [HISTORY] = {"history.md", "Town history",
                 "The town grew up around a crossing of the river, where a ford let carts pass "
                 "in summer. A market charter came in the thirteenth century, and with it a "
                 "church, a guildhall and the first stone bridge. Wool made the merchants rich "
                 "for three hundred years; their houses still line the high street. The canal "
                 "arrived late, the railway soon after, and the station brought brick terraces, "
                 "a brewery and a foundry that cast bells and railings. In the war years a "
                 "zeppelin once passed overhead at night, a hangar was built by the river for "
                 "seaplanes, and the old mill became a school. After the war the foundry closed, "
                 "the brewery was sold, and the town turned to light industry, a hospital and "
                 "commuters. The bypass opened in the seventies and took the lorries out of the "
                 "centre, the market moved to the square, and the guildhall became a museum "
                 "with a room of old maps, photographs of the floods and the mayor's chain.",
                 0},
    [STARTER] = {"starter.md", "Sourdough starter",
                 "Feed the starter equal weights of flour and water every day; it doubles in a "
                 "few hours when it is active and smells pleasantly sour.", 0},
    [TAX] = {"tax.md", "Tax return deadline",
             "File the forms by the end of January and keep every receipt for six years in case "
             "of an audit.", 0},
    [STREET] = {"street.md", "Street names",
                "Sourdough Lane runs between the station and the old mill.", 0},
};

static int rm_one(const char *p, const struct stat *sb, int f, struct FTW *w) {
  (void)sb, (void)f, (void)w;
  return remove(p);
}

static void add_doc(doc *d) {
  trove_err err = {0};
  trove_store_item it = {.external_id = d->ext, .type = TROVE_ITEM_LOCAL, .title = d->title,
                         .text = d->text};
  CHECK(trove_store_item_upsert(st, src, &it, &d->id, &err) == 0);
  trove_passages ps = {0};
  CHECK(trove_passage_split(emb, d->title, d->text, strlen(d->text), NULL, 0, NULL, &ps,
                            &err) == 0);
  CHECK(ps.n > 0 && ps.n <= 16);
  if (ps.n == 0 || ps.n > 16) {
    trove_passages_free(&ps);
    return;
  }
  trove_store_passage sp[16];
  float v[16 * 512];
  int64_t pid[16];
  for (size_t i = 0; i < ps.n; i++) {
    sp[i] = (trove_store_passage){.ordinal = (int64_t)i, .start = (int64_t)ps.v[i].start,
                                  .end = (int64_t)ps.v[i].end};
    const char *t = ps.v[i].input;
    CHECK(trove_embedder_embed_batch(emb, &t, NULL, 1, v + i * 512, &err) == 0);
  }
  CHECK(trove_store_item_embed(st, d->id, trove_embedder_name(emb), sp, v, ps.n, 512, pid,
                               NULL, &err) == 0);
  for (size_t i = 0; i < ps.n; i++)
    CHECK(trove_index_add(idx, (uint64_t)pid[i], v + i * 512, 512, &err) == 0);
  trove_passages_free(&ps);
}

static void setup(void) {
  snprintf(dir, sizeof dir, "/tmp/trove-levers-XXXXXX");
  CHECK(mkdtemp(dir) != NULL);
  snprintf(db, sizeof db, "%s/trove.db", dir);
  trove_err err = {0};
  trove_store_opts o = {.path = db};
  CHECK(trove_store_open(&o, &st, &err) == 0);
  CHECK(trove_store_source_add(st, "notes", "fs", "/notes", NULL, &src, &err) == 0);
  trove_index_params p;
  trove_index_params_default(&p, 512);
  CHECK(trove_index_create(&p, &idx, &err) == 0);
  for (size_t i = 0; i < N_DOCS; i++)
    add_doc(&docs[i]);
}

/* Every knob at its default, every item wanted (the corpus is tiny). */
static trove_search_params defaults(void) {
  trove_search_params p;
  trove_search_params_default(&p);
  p.n = 100;
  return p;
}

/* The defaults with rank fusion alone (fusion_alpha 0), where the levers
 * below act. */
static trove_search_params rank_fusion(void) {
  trove_search_params p = defaults();
  p.fusion_alpha = 0;
  return p;
}

static const char *name_of(int64_t id) {
  for (size_t i = 0; i < N_DOCS; i++)
    if (docs[i].id == id)
      return docs[i].ext;
  return "?";
}

static void show(const char *label, const char *q, const trove_search_result *r, size_t n) {
  fprintf(stderr, "  %s \"%s\":\n", label, q);
  for (size_t i = 0; i < n; i++)
    fprintf(stderr, "    %2zu %-12s score %.5f  kw %2zu  sem %2zu  cos %.3f\n", i + 1,
            name_of(r[i].item_id), r[i].score, r[i].keyword_rank, r[i].semantic_rank,
            (double)r[i].cosine);
}

/* One ranked list, kept for the checks and printed when asked for. */
typedef struct list {
  trove_search_result *r;
  size_t n;
} list;

static list run(const char *label, const char *q, const trove_search_params *p) {
  list l = {0};
  trove_err err = {0};
  int rc = trove_search_run(st, idx, emb, q, p, &l.r, &l.n, &err);
  if (rc)
    fprintf(stderr, "search \"%s\": %s\n", q, err.msg);
  CHECK(rc == 0);
  if (show_all)
    show(label, q, l.r, l.n);
  return l;
}

/* The 0-based position of doc d in l, or SIZE_MAX when it is not there. */
static size_t pos(const list *l, int d) {
  for (size_t i = 0; i < l->n; i++)
    if (l->r[i].item_id == docs[d].id)
      return i;
  return SIZE_MAX;
}

static const trove_search_result *res(const list *l, int d) {
  size_t i = pos(l, d);
  return i == SIZE_MAX ? NULL : &l->r[i];
}

static void done(list *l) {
  trove_search_results_free(l->r, l->n);
  *l = (list){0};
}

/* The BM25 scores of query's all-words hits (store search, the ranker's
 * column weights), best first, into sc[0..2]; returns how many there are. */
static size_t bm25_top(const char *query, double sc[2]) {
  trove_search_params d;
  trove_search_params_default(&d);
  trove_store_search_opts o = {.limit = 10, .type = TROVE_ITEM_ANY, .w_title = 20, /* hybrid's */
                               .w_headings = d.w_headings, .w_text = d.w_text,
                               .snippet_tokens = -1};
  trove_store_hit *h = NULL;
  size_t n = 0;
  trove_err err = {0};
  CHECK(trove_store_search(st, query, &o, &h, &n, &err) == 0);
  sc[0] = n > 0 ? h[0].score : 0;
  sc[1] = n > 1 ? h[1].score : 0;
  trove_store_hits_free(h, n);
  return n;
}

/* Prints the lists of a case that failed, so the cosines and ranks that
 * broke it are in the ctest log. */
static void show_if_failed(int failures_before, const char *q, const list *ls, size_t n_ls,
                           const char *const *labels) {
  if (show_all || check_failures_in_case == failures_before)
    return;
  for (size_t i = 0; i < n_ls; i++)
    show(labels[i], q, ls[i].r, ls[i].n);
}

/* all_words_boost. "violin repair": the ledger holds both words in passing
 * (the only all-words item: keyword rank 1) but is about bills; the luthier's
 * note holds only "violin" (keyword rank 2) and is about exactly that
 * (semantic rank 1). With vectors weighted 4 the luthier wins at boost 1
 * (1/62 + 4/61 beats 1/61 + 4/62 whatever the ledger's semantic rank);
 * boost 3 puts the full keyword match ahead (3/61 alone is 0.049, and the
 * ledger's vector term keeps it above the luthier's 0.082 down to semantic
 * rank 62). */
static void all_words_boost_lifts_the_item_with_every_word(void) {
  const char *q = "violin repair";
  int f0 = check_failures_in_case;
  trove_search_params p = rank_fusion();
  p.w_semantic = 4;
  list off = run("boost 1", q, &p);
  p.all_words_boost = 3;
  list on = run("boost 3", q, &p);
  const trove_search_result *ledger = res(&off, LEDGER), *luthier = res(&off, LUTHIER);
  CHECK(ledger && luthier);
  if (ledger && luthier) { /* the premises */
    CHECK(ledger->keyword_rank == 1 && luthier->keyword_rank == 2);
    CHECK(luthier->semantic_rank == 1 && ledger->semantic_rank >= 2);
    CHECK(luthier->cosine > ledger->cosine + 0.1f); /* clearly closer, not a near tie */
  }
  CHECK(pos(&off, LUTHIER) < pos(&off, LEDGER));
  CHECK(pos(&on, LEDGER) < pos(&on, LUTHIER) && pos(&on, LEDGER) == 0);
  /* the same boost on a query no item holds every word of changes nothing */
  const char *q2 = "stargazing telescope eyepiece";
  p.all_words_boost = 1;
  list off2 = run("boost 1", q2, &p);
  p.all_words_boost = 3;
  list on2 = run("boost 3", q2, &p);
  CHECK(off2.n == on2.n && off2.n > 0);
  for (size_t i = 0; i < off2.n && i < on2.n; i++)
    CHECK(off2.r[i].item_id == on2.r[i].item_id && off2.r[i].score == on2.r[i].score);
  list ls[] = {off, on};
  show_if_failed(f0, q, ls, 2, (const char *const[]){"boost 1", "boost 3"});
  done(&off);
  done(&on);
  done(&off2);
  done(&on2);
}

/* no_match_semantic. "stargazing telescope eyepiece": no item has
 * "stargazing", so none holds every word. The lost-property list has the
 * other two (keyword rank 1, from the single-word tail) but is about a bus;
 * the night-sky note has none of them and is the semantic favourite. With
 * rrf_k 1 the ranks count in full: at 1.0 the keyword favourite has
 * 1/2 + 0.6/(1 + its semantic rank) against the sky's 0.6/2; at 10 the sky
 * has 6/2 = 3 against at most 1/2 + 6/3 = 2.5. On "telescope eyepiece",
 * which the lost-property list holds whole, the lever must do nothing. */
static void no_match_semantic_leans_on_meaning_without_a_full_match(void) {
  const char *q = "stargazing telescope eyepiece";
  int f0 = check_failures_in_case;
  double sc[2];
  CHECK(bm25_top(q, sc) == 0); /* the premise: no all-words item */
  trove_search_params p = rank_fusion();
  p.rrf_k = 1;
  list off = run("no_match_semantic 1", q, &p);
  p.no_match_semantic = 10;
  list on = run("no_match_semantic 10", q, &p);
  const trove_search_result *lost = res(&off, LOST), *sky = res(&off, SKY);
  CHECK(lost && sky);
  if (lost && sky) {
    CHECK(lost->keyword_rank == 1 && sky->keyword_rank == 0);
    CHECK(sky->semantic_rank == 1 && lost->semantic_rank >= 2);
    CHECK(sky->cosine > lost->cosine + 0.1f);
  }
  CHECK(pos(&off, LOST) == 0 && pos(&off, LOST) < pos(&off, SKY));
  CHECK(pos(&on, SKY) == 0 && pos(&on, SKY) < pos(&on, LOST));
  /* a full match exists: the same setting leaves every score as it was */
  const char *q2 = "telescope eyepiece";
  CHECK(bm25_top(q2, sc) == 1);
  p.no_match_semantic = 1;
  list off2 = run("no_match_semantic 1", q2, &p);
  p.no_match_semantic = 10;
  list on2 = run("no_match_semantic 10", q2, &p);
  CHECK(off2.n == on2.n && off2.n > 0 && pos(&on2, LOST) == 0);
  for (size_t i = 0; i < off2.n && i < on2.n; i++)
    CHECK(off2.r[i].item_id == on2.r[i].item_id && off2.r[i].score == on2.r[i].score);
  list ls[] = {off, on, off2, on2};
  show_if_failed(f0, q, ls, 4,
                 (const char *const[]){"no_match_semantic 1", "no_match_semantic 10",
                                       "full match, 1", "full match, 10"});
  done(&off);
  done(&on);
  done(&off2);
  done(&on2);
}

/* keyword_margin. "zeppelin hangar": the committee minutes have both words
 * in their title (BM25 about 5 times the town history's, which has them once
 * in a long body) but are about allotments; the airship note has only
 * "hangars" (from the single-word tail) and is the semantic favourite.
 * Keyword evidence is made nearly worthless (w_keyword 0.01 against
 * w_semantic 1: vectors count a hundred times more, and every fused score
 * stays far below the margin's +1), so without the margin the airships
 * (above 1/61) beat the minutes (at most 0.01/61 + 1/62); with
 * keyword_margin 2 the decisive hit comes first. A margin above the actual
 * ratio must not fire: the list is then exactly the one without. */
static void keyword_margin_puts_a_decisive_keyword_hit_first(void) {
  const char *q = "zeppelin hangar";
  int f0 = check_failures_in_case;
  double sc[2];
  CHECK(bm25_top(q, sc) == 2); /* the premises: two all-words hits, */
  double ratio = sc[1] > 0 ? sc[0] / sc[1] : 0;
  if (show_all || ratio < 3)
    fprintf(stderr, "  BM25 \"%s\": %.3f, %.3f (ratio %.2f)\n", q, sc[0], sc[1], ratio);
  CHECK(ratio >= 3); /* the first far ahead (about 4.9) */
  trove_search_params p = rank_fusion();
  p.w_keyword = 0.01;
  p.w_semantic = 1;
  list off = run("no margin", q, &p);
  p.keyword_margin = 2;
  list on = run("keyword_margin 2", q, &p);
  p.keyword_margin = ratio * 1.5;
  list high = run("margin above the ratio", q, &p);
  const trove_search_result *minutes = res(&off, MINUTES), *air = res(&off, AIRSHIPS);
  CHECK(minutes && air);
  if (minutes && air) {
    CHECK(minutes->keyword_rank == 1 && air->keyword_rank != 1);
    CHECK(air->semantic_rank == 1 && minutes->semantic_rank >= 2);
    CHECK(air->cosine > minutes->cosine + 0.05f);
  }
  CHECK(pos(&off, AIRSHIPS) == 0 && pos(&off, AIRSHIPS) < pos(&off, MINUTES));
  /* first, and above every other fused score (its own added to the best) */
  CHECK(pos(&on, MINUTES) == 0 && on.n > 1 && on.r[0].score > on.r[1].score);
  CHECK(on.n > 1 && on.r[0].score >= res(&off, AIRSHIPS)->score);
  CHECK(pos(&high, AIRSHIPS) == 0 && pos(&high, AIRSHIPS) < pos(&high, MINUTES));
  CHECK(off.n == high.n);
  for (size_t i = 0; i < off.n && i < high.n; i++)
    CHECK(off.r[i].item_id == high.r[i].item_id && off.r[i].score == high.r[i].score);
  list ls[] = {off, on, high};
  show_if_failed(f0, q, ls, 3,
                 (const char *const[]){"no margin", "keyword_margin 2", "margin above ratio"});
  done(&off);
  done(&on);
  done(&high);
}

/* cosine_window. "sourdough starter feeding": the starter note is both
 * favourites (cosine about 0.7); the street-names note has "sourdough"
 * (keyword rank 2) but little meaning in common; the tax note has no word
 * of the query and only a weak vector match. Every passage is within the
 * index's vector_depth, so without a window every item comes back, the tax
 * note among them on its vector rank alone. With a window of 0.2, passages
 * more than 0.2 below the best stop counting: the tax note has no evidence
 * left and drops out, the street note stays on its keyword rank alone and
 * ahead of every item whose only evidence was a vector match. */
static void cosine_window_drops_weak_vector_matches(void) {
  const char *q = "sourdough starter feeding";
  const float window = 0.2f;
  int f0 = check_failures_in_case;
  trove_search_params p = rank_fusion();
  list off = run("no window", q, &p);
  p.cosine_window = window;
  list on = run("cosine_window 0.2", q, &p);
  p.mode = TROVE_SEARCH_SEMANTIC;
  list sem = run("semantic, cosine_window 0.2", q, &p);
  const trove_search_result *starter = res(&off, STARTER), *tax = res(&off, TAX),
                            *street = res(&off, STREET);
  CHECK(starter && tax && street);
  if (starter && tax && street) { /* the premises: who is where, and by how much */
    CHECK(starter->semantic_rank == 1 && starter->keyword_rank == 1);
    CHECK(tax->keyword_rank == 0 && tax->semantic_rank > 0);
    CHECK(street->keyword_rank == 2);
    CHECK(tax->cosine < starter->cosine - window - 0.15f);
    CHECK(street->cosine < starter->cosine - window - 0.05f);
  }
  CHECK(off.n == N_DOCS); /* without the window: everything, the tax note too */
  CHECK(pos(&on, STARTER) == 0);
  CHECK(pos(&on, TAX) == SIZE_MAX);
  const trove_search_result *st_on = res(&on, STREET);
  CHECK(st_on && st_on->keyword_rank == 2 && st_on->semantic_rank == 0 && pos(&on, STREET) == 1);
  /* every result kept has evidence within the window or a keyword rank */
  for (size_t i = 0; i < on.n; i++)
    CHECK(on.r[i].keyword_rank > 0 ||
          (starter && on.r[i].cosine >= starter->cosine - window));
  /* semantic only: exactly the items whose best passage is in the window */
  size_t in_window = 0;
  for (size_t i = 0; starter && i < off.n; i++)
    in_window += off.r[i].cosine >= starter->cosine - window;
  CHECK(sem.n == in_window && in_window >= 1 && pos(&sem, STARTER) == 0);
  CHECK(pos(&sem, TAX) == SIZE_MAX && pos(&sem, STREET) == SIZE_MAX);
  list ls[] = {off, on, sem};
  show_if_failed(f0, q, ls, 3,
                 (const char *const[]){"no window", "cosine_window 0.2", "semantic, window"});
  done(&off);
  done(&on);
  done(&sem);
}

/* Two result lists are the same items with the same scores, in order. */
static bool same_lists(const list *a, const list *b) {
  bool same = a->n == b->n;
  for (size_t i = 0; same && i < a->n; i++)
    same = a->r[i].item_id == b->r[i].item_id && a->r[i].score == b->r[i].score;
  return same;
}

/* w_title 0 is each mode's own title weight: 10 in keyword mode, 20 in
 * hybrid. "hangar" is in the minutes' title and in the town history's body,
 * so a title weight near 0 ranks them the other way: the weight is applied. */
static void title_weight_zero_is_the_modes_own(void) {
  const char *q = "hangar";
  trove_search_params p = defaults(), w = defaults();
  CHECK(p.w_title == 0);
  static const struct {
    trove_search_mode mode;
    double own;
  } cases[] = {{TROVE_SEARCH_KEYWORD, 10}, {TROVE_SEARCH_HYBRID, 20}};
  for (size_t i = 0; i < 2; i++) {
    p.mode = w.mode = cases[i].mode;
    w.w_title = cases[i].own;
    list zero = run("w_title 0", q, &p), own = run("own weight", q, &w);
    w.w_title = 0.01;
    list faint = run("title weight 0.01", q, &w);
    CHECK(same_lists(&zero, &own));
    CHECK(pos(&zero, MINUTES) < pos(&zero, HISTORY));
    CHECK(pos(&faint, HISTORY) < pos(&faint, MINUTES));
    done(&zero), done(&own), done(&faint);
  }
}

/* score fusion (fusion_alpha). "zeppelin hangar", as for keyword_margin:
 * the committee minutes hold both words in their title, a BM25 about five
 * times the next item's, but the airship note is the semantic favourite.
 * In rank fusion with rrf_k 1 and vectors at 2, ranks carry no margin and
 * the airships come first (1/4 + 2/2 against the minutes' 1/2 + 2/3). Score
 * fusion sees the margin: the minutes keep 0.8 from BM25 and the airships,
 * with a fraction of that BM25, cannot make it up with vectors at 0.2.
 * "violin repair": the ledger holds both words (BM25 first, by a smaller
 * margin) and the luthier's note is the semantic favourite by far; alpha is
 * the trade: at 0.8 BM25 decides, at 0.3 the vectors do. */
static void score_fusion_follows_the_keyword_margin(void) {
  int f0 = check_failures_in_case;
  const char *q = "zeppelin hangar";
  trove_search_params p = defaults();
  p.rrf_k = 1;
  p.w_semantic = 2;
  p.fusion_rrf = 0;
  list score = run("score fusion", q, &p);
  p.fusion_alpha = 0;
  list rank = run("rank fusion", q, &p);
  const trove_search_result *minutes = res(&score, MINUTES), *air = res(&score, AIRSHIPS);
  CHECK(minutes && air);
  if (minutes && air) { /* the premises */
    CHECK(minutes->keyword_rank == 1 && minutes->semantic_rank == 2);
    CHECK(air->semantic_rank == 1 && air->keyword_rank >= 2);
    CHECK(air->cosine > minutes->cosine + 0.05f);
  }
  CHECK(pos(&rank, AIRSHIPS) == 0 && pos(&rank, AIRSHIPS) < pos(&rank, MINUTES));
  CHECK(pos(&score, MINUTES) == 0 && pos(&score, MINUTES) < pos(&score, AIRSHIPS));
  const char *q2 = "violin repair";
  p = defaults();
  p.fusion_rrf = 0;
  list bm25 = run("alpha 0.8", q2, &p);
  p.fusion_alpha = 0.3;
  list cos = run("alpha 0.3", q2, &p);
  const trove_search_result *ledger = res(&bm25, LEDGER), *luthier = res(&bm25, LUTHIER);
  CHECK(ledger && luthier);
  if (ledger && luthier) {
    CHECK(ledger->keyword_rank == 1 && luthier->keyword_rank == 2);
    CHECK(luthier->semantic_rank == 1 && luthier->cosine > ledger->cosine + 0.1f);
  }
  CHECK(pos(&bm25, LEDGER) == 0 && pos(&bm25, LEDGER) < pos(&bm25, LUTHIER));
  CHECK(pos(&cos, LUTHIER) == 0 && pos(&cos, LUTHIER) < pos(&cos, LEDGER));
  list ls[] = {score, rank, bm25, cos};
  show_if_failed(f0, q, ls, 4,
                 (const char *const[]){"score fusion", "rank fusion", "violin, alpha 0.8",
                                       "violin, alpha 0.3"});
  done(&score);
  done(&rank);
  done(&bm25);
  done(&cos);
}

/* fusion_rrf adds the rank fusion score to the score fusion: an item found
 * by both lists gains on one found by a single list. Scores are the convex
 * mix plus fusion_rrf * (rrf_k + 1) * the rank fusion score, exactly. */
static void fusion_rrf_adds_the_rank_score(void) {
  const char *q = "sourdough starter feeding";
  trove_search_params p = defaults();
  p.fusion_rrf = 0;
  list plain = run("fusion_rrf 0", q, &p);
  p.fusion_rrf = 1;
  list both = run("fusion_rrf 1", q, &p);
  CHECK(both.n >= plain.n && plain.n > 0); /* a convex 0 (no keyword, at the floor) drops */
  for (size_t i = 0; i < plain.n; i++) {
    const trove_search_result *a = &plain.r[i], *b = res(&both, 0);
    for (size_t j = 0; j < both.n; j++)
      if (both.r[j].item_id == a->item_id)
        b = &both.r[j];
    double rrf = 0;
    if (a->keyword_rank)
      rrf += p.w_keyword / (p.rrf_k + (double)a->keyword_rank);
    if (a->semantic_rank)
      rrf += p.w_semantic / (p.rrf_k + (double)a->semantic_rank);
    if (a->is_link_hub)
      rrf *= p.hub_weight;
    CHECK(b && b->item_id == a->item_id);
    CHECK(b && fabs(b->score - a->score - (p.rrf_k + 1) * rrf) < 1e-9);
  }
  done(&plain);
  done(&both);
}

int main(void) {
  trove_err err = {0};
  if (trove_embedder_open_use_lite(NULL, &emb, &err)) {
    fprintf(stderr, "cannot open the model: %s\n", err.msg);
    return 1;
  }
  show_all = getenv("TROVE_LEVERS_SHOW") != NULL;
  setup();
  RUN(all_words_boost_lifts_the_item_with_every_word);
  RUN(no_match_semantic_leans_on_meaning_without_a_full_match);
  RUN(keyword_margin_puts_a_decisive_keyword_hit_first);
  RUN(cosine_window_drops_weak_vector_matches);
  RUN(title_weight_zero_is_the_modes_own);
  RUN(score_fusion_follows_the_keyword_margin);
  RUN(fusion_rrf_adds_the_rank_score);
  trove_index_destroy(idx);
  trove_store_close(st);
  trove_embedder_close(emb);
  nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  return check_done(__FILE__);
}
