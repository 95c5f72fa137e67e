/* hnsw.c: the Hierarchical Navigable Small World graph (Malkov & Yashunin,
 * "Efficient and robust approximate nearest neighbor search using HNSW
 * graphs", TPAMI 2018, arXiv:1603.09320): insertion (the paper's Algorithm
 * 1), beam search of one layer (Algorithm 2), neighbour selection by the
 * heuristic (Algorithm 4) and k-NN search (Algorithm 5). Written from the
 * paper; hnswlib's memory layout (fixed-size level-0 lists, count word
 * first) was the model for the arrays.
 *
 * HOW IT WORKS
 * Every node gets a top level L = floor(-ln(U) * mL), U uniform in (0,1],
 * mL = 1/ln(M), so each level holds ~1/M of the one below. A node has a
 * neighbour list on each level 0..L: at most 2M on level 0 (dense, where
 * recall is won), at most M above. A search starts at the entry point (the
 * node of the highest level), walks greedily down the upper levels (beam of
 * 1), then runs a beam of width ef on level 0: a max-heap of candidates to
 * expand, best first, and a bounded heap of the ef best results, worst on
 * top; it stops when the best unexpanded candidate is worse than the worst
 * result. Insertion runs that same search for the new vector (beam
 * ef_construction on each of its levels), picks M neighbours by the
 * heuristic, links both ways, and re-prunes a neighbour's full list with the
 * same heuristic. The heuristic keeps a candidate only if it is closer to
 * the new node than to every neighbour already kept: links then point in
 * different directions, which keeps clustered data navigable where "keep
 * the M closest" strands whole clusters.
 *
 * Storage: node numbers are dense in insertion order. Vectors are one
 * node-major float array; level-0 lists are one array of n slots of 1+2M
 * words (count, then neighbours), so a node's list is found by
 * multiplication and the file can be mapped and used in place; lists of
 * levels >= 1 (about 1 node in M has any) live in one `upper` array at a
 * per-node offset. The visited set is an array of 16-bit generation marks:
 * a search bumps the generation instead of clearing n bytes, and clears
 * only when the counter wraps (every 65535 searches).
 *
 * Parallel insertion (hnsw_build.c) runs connect on several threads: each
 * list is read (copied) and written under a striped mutex, the entry point
 * under its own. An insert first chooses and writes all of its own lists
 * while no list points to it yet, and only then adds the back links, so no
 * thread can reach a half-built node, and no back link added by another
 * insert can be overwritten (both happened, and stranded nodes, when each
 * level was finished before the next: found by the exact-at-ef=n test).
 *
 * Deletion is a tombstone (dead[node] = 1): the node keeps its links and is
 * still walked through, so the graph stays navigable, but never enters
 * results. A beam admits a node to results only if it is live and passes
 * the caller's filter; rejected nodes are still expanded. index.c rebuilds
 * the graph without tombstones when they pass a share (compaction).
 *
 * INVARIANTS
 * - Every neighbour id in a list is < n, and a node listed on level l has a
 *   top level >= l (its level-l list exists). hnsw_io.c checks both on load.
 * - List counts never exceed their capacity (2M on level 0, M above).
 * - entry has level max_level; max_level == -1 iff n == 0.
 * - A graph being changed is not mapped (trove__graph_own first).
 * - All allocation for an insert happens before the first write, so a
 *   failed insert leaves the graph as it was.
 *
 * LIMITS
 * - Recall is approximate; ef trades it for time (see index.c and the
 *   benchmark for measured defaults). Heavy filters make a beam expand
 *   far more nodes before it fills.
 * - Links to tombstones are kept until compaction; a graph with most nodes
 *   dead navigates through dead weight.
 * - At most UINT32_MAX-1 nodes (node numbers are 32-bit), tombstones
 *   included.
 * - Like any HNSW, a node whose every in-link was pruned is unreachable
 *   (found only by the exact scan). Sequential builds in the tests have
 *   none; parallel ones, where two near nodes inserted at once do not see
 *   each other, measured 0-2 per 2000. Compaction rebuilds them afresh.
 * - Searches are read-only and need no node locks; they never run during
 *   a parallel insert (index.c holds the write lock).
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void trove__graph_init(trove__graph *g, const trove_index_params *p) {
  memset(g, 0, sizeof *g);
  g->p = *p;
  g->m0 = 2 * p->m;
  g->ml = 1.0 / log((double)p->m);
  g->dot = trove__dot_pick();
  g->max_level = -1;
  g->rng = p->seed ^ 0x9E3779B97F4A7C15ULL;
}

void trove__graph_free(trove__graph *g) {
  if (g->map_base) {
    munmap(g->map_base, g->map_len);
  } else {
    trove_free(g->vecs);
    trove_free(g->l0);
  }
  trove_free(g->ids);
  trove_free(g->levels);
  trove_free(g->dead);
  trove_free(g->up_off);
  trove_free(g->upper);
  trove__idmap_free(&g->map);
  trove_index_params p = g->p;
  trove__graph_init(g, &p);
}

/* Copies a mapped array into a fresh block of cap items. */
static void *copy_out(const void *src, size_t n, size_t cap, size_t item) {
  size_t bytes, used;
  if (!trove_mul_ok(cap, item, &bytes) || !trove_mul_ok(n, item, &used))
    return NULL;
  void *p = trove_malloc(bytes);
  if (p && used)
    memcpy(p, src, used);
  return p;
}

/* Copies the mapped arrays into owned blocks of cap nodes (cap >= n). */
static int own_at(trove__graph *g, size_t cap) {
  if (!g->map_base)
    return 0;
  float *vecs = copy_out(g->vecs, g->n, cap, (size_t)g->p.dim * sizeof(float));
  uint32_t *l0 = copy_out(g->l0, g->n, cap, (1 + (size_t)g->m0) * sizeof(uint32_t));
  if (!vecs || !l0) {
    trove_free(vecs);
    trove_free(l0);
    return TROVE_ENOMEM;
  }
  munmap(g->map_base, g->map_len);
  g->map_base = NULL;
  g->vecs = vecs;
  g->l0 = l0;
  return 0;
}

int trove__graph_own(trove__graph *g) { return own_at(g, g->cap); }

/* Reallocs *pp to cap items; the old block stays valid on failure. */
static int regrow(void **pp, size_t cap, size_t item) {
  size_t bytes;
  if (!trove_mul_ok(cap, item, &bytes))
    return TROVE_ENOMEM;
  void *p = trove_realloc(*pp, bytes);
  if (!p)
    return TROVE_ENOMEM;
  *pp = p;
  return 0;
}

/* Makes the per-node arrays hold `need` nodes. A partial failure is benign:
 * arrays already grown are just larger than cap says. */
static int grow(trove__graph *g, size_t need) {
  if (need <= g->cap)
    return trove__graph_own(g);
  size_t cap = g->cap < 8 ? 16 : g->cap * 2;
  if (cap < need)
    cap = need;
  int rc = own_at(g, cap); /* one copy out of the map, straight to the new size */
  if (rc)
    return rc;
  if (regrow((void **)&g->vecs, cap, (size_t)g->p.dim * sizeof(float)) ||
      regrow((void **)&g->l0, cap, (1 + (size_t)g->m0) * sizeof(uint32_t)) ||
      regrow((void **)&g->ids, cap, sizeof(uint64_t)) ||
      regrow((void **)&g->levels, cap, 1) || regrow((void **)&g->dead, cap, 1) ||
      regrow((void **)&g->up_off, cap, sizeof(uint64_t)))
    return TROVE_ENOMEM;
  g->cap = cap;
  return 0;
}

static int grow_upper(trove__graph *g, size_t words) {
  if (g->up_cap - g->up_len >= words)
    return 0;
  size_t cap = g->up_cap < 256 ? 512 : g->up_cap * 2;
  if (cap < g->up_len + words)
    cap = g->up_len + words;
  if (regrow((void **)&g->upper, cap, sizeof(uint32_t)))
    return TROVE_ENOMEM;
  g->up_cap = cap;
  return 0;
}

int trove__scratch_fit(trove__scratch *s, const trove__graph *g, size_t n, size_t ef) {
  if (n > s->mark_cap) {
    size_t cap = n < 1024 ? 1024 : n + n / 2;
    if (regrow((void **)&s->mark, cap, sizeof(uint16_t)))
      return TROVE_ENOMEM;
    memset(s->mark + s->mark_cap, 0, (cap - s->mark_cap) * sizeof(uint16_t));
    s->mark_cap = cap;
  }
  /* Each visited node enters the candidate heap at most once: n bounds it. */
  size_t ncand = n + 1, nres = ef + 1, nnb = (size_t)g->m0 + 2;
  if (trove__heap_reserve(&s->cand, ncand) || trove__heap_reserve(&s->res, nres))
    return TROVE_ENOMEM;
  if (nres > s->buf_cap) {
    if (regrow((void **)&s->buf, nres, sizeof(trove__hitem)))
      return TROVE_ENOMEM;
    s->buf_cap = nres;
  }
  if (nnb > s->nb_cap) {
    if (regrow((void **)&s->nb, nnb, sizeof(trove__hitem)) ||
        regrow((void **)&s->lbuf, nnb, sizeof(uint32_t)) ||
        regrow((void **)&s->sel, nnb * (TROVE__MAX_LEVEL + 1), sizeof(uint32_t)))
      return TROVE_ENOMEM;
    s->nb_cap = nnb;
  }
  return 0;
}

void trove__scratch_free(trove__scratch *s) {
  trove_free(s->mark);
  trove__heap_free(&s->cand);
  trove__heap_free(&s->res);
  trove_free(s->buf);
  trove_free(s->nb);
  trove_free(s->lbuf);
  trove_free(s->sel);
  memset(s, 0, sizeof *s);
}

/* Starts a new visited set: marks of older searches are all < gen. */
static void visit_begin(trove__scratch *s) {
  if (++s->gen == 0) {
    memset(s->mark, 0, s->mark_cap * sizeof(uint16_t));
    s->gen = 1;
  }
}

/* xorshift64*: fast, and good enough for level draws. */
static uint64_t next_rand(trove__graph *g) {
  g->rng ^= g->rng >> 12;
  g->rng ^= g->rng << 25;
  g->rng ^= g->rng >> 27;
  return g->rng * 0x2545F4914F6CDD1DULL;
}

static int draw_level(trove__graph *g) {
  double u = ((double)(next_rand(g) >> 11) + 1.0) * 0x1.0p-53; /* (0, 1] */
  double l = floor(-log(u) * g->ml);
  return l > TROVE__MAX_LEVEL ? TROVE__MAX_LEVEL : (int)l;
}

static void lock_node(const trove__locks *lk, uint32_t v) {
  pthread_mutex_lock((pthread_mutex_t *)&lk->node[v % TROVE__STRIPES]);
}

static void unlock_node(const trove__locks *lk, uint32_t v) {
  pthread_mutex_unlock((pthread_mutex_t *)&lk->node[v % TROVE__STRIPES]);
}

/* The list of node at level: in place when single-threaded (lk NULL), else
 * a copy taken under the node's lock into s->lbuf, since a parallel insert
 * may be rewriting it. */
static const uint32_t *read_links(const trove__graph *g, const trove__locks *lk,
                                  trove__scratch *s, uint32_t node, int level) {
  const uint32_t *l = trove__links(g, node, level);
  if (!lk)
    return l;
  lock_node(lk, node);
  memcpy(s->lbuf, l, (1 + (size_t)l[0]) * sizeof(uint32_t));
  unlock_node(lk, node);
  return s->lbuf;
}

/* Greedy walk on one level from *ep (score *es) to a local best. */
static void greedy(const trove__graph *g, const trove__locks *lk, trove__scratch *s,
                   const float *q, uint32_t *ep, float *es, int level) {
  for (bool moved = true; moved;) {
    moved = false;
    const uint32_t *l = read_links(g, lk, s, *ep, level);
    for (uint32_t j = 1; j <= l[0]; j++) {
      float sc = g->dot(q, trove__vec(g, l[j]), g->p.dim);
      if (sc > *es) {
        *es = sc;
        *ep = l[j];
        moved = true;
      }
    }
  }
}

/* Algorithm 2: beam of width ef on one level from ep. Results (keys are
 * negated scores, so the worst is on top) are left in s->res. With ad ==
 * NULL every node is admitted (insertion links through tombstones too). */
static void beam(const trove__graph *g, const trove__locks *lk, trove__scratch *s,
                 const float *q, uint32_t ep, float es, size_t ef, int level,
                 const trove__admit *ad) {
  visit_begin(s);
  s->cand.len = s->res.len = 0;
  s->mark[ep] = s->gen;
  trove__heap_push(&s->cand, es, ep);
  if (!ad || trove__admitted(g, ad, ep))
    trove__heap_push(&s->res, -es, ep);
  while (s->cand.len > 0) {
    trove__hitem c = trove__heap_pop(&s->cand);
    if (s->res.len >= ef && c.key < -s->res.a[0].key)
      break;
    const uint32_t *l = read_links(g, lk, s, c.node, level);
    for (uint32_t j = 1; j <= l[0]; j++) {
      uint32_t e = l[j];
      if (s->mark[e] == s->gen)
        continue;
      s->mark[e] = s->gen;
      if (j < l[0])
        __builtin_prefetch(trove__vec(g, l[j + 1]));
      float sc = g->dot(q, trove__vec(g, e), g->p.dim);
      if (s->res.len < ef || sc > -s->res.a[0].key) {
        trove__heap_push(&s->cand, sc, e);
        if (!ad || trove__admitted(g, ad, e)) {
          trove__heap_push(&s->res, -sc, e);
          if (s->res.len > ef)
            trove__heap_pop(&s->res);
        }
      }
    }
  }
}

/* Empties s->res into s->buf best first (keys back to scores); count. */
static size_t drain(trove__scratch *s) {
  size_t n = s->res.len;
  for (size_t i = n; i > 0; i--) {
    trove__hitem h = trove__heap_pop(&s->res);
    s->buf[i - 1] = (trove__hitem){-h.key, h.node};
  }
  return n;
}

static int by_score_desc(const void *a, const void *b) {
  float x = ((const trove__hitem *)a)->key, y = ((const trove__hitem *)b)->key;
  return (x < y) - (x > y);
}

/* Algorithm 4 without extension: from c[0..nc) (best first, keys are
 * similarities to the base node) keep those more similar to the base than to
 * any already kept, at most mmax, into dst[1..]; dst[0] = count. */
static void select_heuristic(const trove__graph *g, const trove__hitem *c, size_t nc,
                             uint32_t mmax, uint32_t *dst) {
  uint32_t kept = 0;
  for (size_t i = 0; i < nc && kept < mmax; i++) {
    const float *v = trove__vec(g, c[i].node);
    bool good = true;
    for (uint32_t r = 1; r <= kept && good; r++)
      good = g->dot(v, trove__vec(g, dst[r]), g->p.dim) <= c[i].key;
    if (good)
      dst[++kept] = c[i].node;
  }
  dst[0] = kept;
}

/* Adds v to e's list on level; a full list is re-pruned with v among the
 * candidates, as the paper's Algorithm 1 prescribes. Holds e's lock when
 * parallel, so two inserts never prune one list at once. */
static void link_back(const trove__graph *g, const trove__locks *lk, trove__scratch *s,
                      uint32_t e, uint32_t v, int level) {
  if (lk)
    lock_node(lk, e);
  uint32_t *l = trove__links(g, e, level);
  uint32_t cap = level == 0 ? g->m0 : g->p.m;
  if (l[0] < cap) {
    l[++l[0]] = v;
  } else {
    const float *ev = trove__vec(g, e);
    size_t nc = 0;
    for (uint32_t j = 1; j <= l[0]; j++)
      s->nb[nc++] = (trove__hitem){g->dot(ev, trove__vec(g, l[j]), g->p.dim), l[j]};
    s->nb[nc++] = (trove__hitem){g->dot(ev, trove__vec(g, v), g->p.dim), v};
    qsort(s->nb, nc, sizeof *s->nb, by_score_desc);
    select_heuristic(g, s->nb, nc, cap, l);
  }
  if (lk)
    unlock_node(lk, e);
}

int trove__graph_reserve(trove__graph *g, size_t nodes, size_t upper_words) {
  int rc = grow(g, nodes);
  return rc ? rc : grow_upper(g, upper_words);
}

int trove__graph_draw_level(trove__graph *g) { return draw_level(g); }

void trove__graph_place(trove__graph *g, uint64_t id, const float *vec, int level) {
  uint32_t v = (uint32_t)g->n;
  memcpy(g->vecs + (size_t)v * g->p.dim, vec, (size_t)g->p.dim * sizeof(float));
  g->ids[v] = id;
  g->levels[v] = (uint8_t)level;
  g->dead[v] = 0;
  g->l0[(size_t)v * (1 + g->m0)] = 0;
  g->up_off[v] = g->up_len;
  for (int l = 0; l < level; l++)
    g->upper[g->up_len + (size_t)l * (1 + g->p.m)] = 0;
  g->up_len += (size_t)level * (1 + g->p.m);
  g->n++;
}

/* The entry point, read under lk->entry when parallel. A node that will
 * become the new top keeps the lock for its whole insert (rare: about
 * log_M(n) times per build), so no other insert starts from a stale top. */
static bool take_entry(trove__graph *g, const trove__locks *lk, int level, uint32_t *ep,
                       int *top) {
  if (lk)
    pthread_mutex_lock((pthread_mutex_t *)&lk->entry);
  *ep = g->entry;
  *top = g->max_level;
  bool keep = level > g->max_level;
  if (lk && !keep)
    pthread_mutex_unlock((pthread_mutex_t *)&lk->entry);
  return keep;
}

void trove__graph_connect(trove__graph *g, trove__scratch *s, const trove__locks *lk,
                          uint32_t v, int level) {
  uint32_t ep;
  int top;
  bool new_top = take_entry(g, lk, level, &ep, &top);
  const float *q = trove__vec(g, v);
  float es = g->dot(q, trove__vec(g, ep), g->p.dim);
  for (int l = top; l > level; l--)
    greedy(g, lk, s, q, &ep, &es, l);
  /* Phase 1: choose v's neighbours on every level and write its lists. No
   * list links to v yet, so no other thread can reach v and the writes need
   * no lock; link_back's unlock below publishes them. Doing every level
   * before any back link matters when parallel: a thread reaching v early
   * must not find half-built lists (a dead end), nor may v's own write
   * overwrite a back link another insert already added to v. */
  int from = level < top ? level : top;
  size_t per = (size_t)g->m0 + 2;
  for (int l = from; l >= 0; l--) {
    beam(g, lk, s, q, ep, es, g->p.ef_construction, l, NULL);
    size_t nc = drain(s);
    uint32_t *sel = s->sel + (size_t)l * per;
    select_heuristic(g, s->buf, nc, g->p.m, sel);
    memcpy(trove__links(g, v, l), sel, (1 + (size_t)sel[0]) * sizeof(uint32_t));
    ep = s->buf[0].node;
    es = s->buf[0].key;
  }
  /* Phase 2: back links, from the saved selections (v's own lists may now
   * change under other threads). Levels are independent, so the graph is
   * the paper's sequential one when lk is NULL. */
  for (int l = from; l >= 0; l--) {
    const uint32_t *sel = s->sel + (size_t)l * per;
    for (uint32_t j = 1; j <= sel[0]; j++)
      link_back(g, lk, s, sel[j], v, l);
  }
  if (new_top) {
    g->entry = v;
    g->max_level = level;
    if (lk)
      pthread_mutex_unlock((pthread_mutex_t *)&lk->entry);
  }
}

int trove__graph_insert(trove__graph *g, trove__scratch *s, uint64_t id, const float *vec) {
  if (g->n >= UINT32_MAX - 1)
    return TROVE_ERANGE;
  uint64_t rng = g->rng;
  int level = draw_level(g);
  int rc = trove__graph_reserve(g, g->n + 1, (size_t)level * (1 + g->p.m));
  if (!rc)
    rc = trove__idmap_reserve(&g->map, g->map.len + 1);
  if (!rc)
    rc = trove__scratch_fit(s, g, g->n + 1, g->p.ef_construction);
  if (!rc)
    rc = trove__idmap_put(&g->map, id, (uint32_t)g->n); /* fails only on a live id */
  if (rc) {
    g->rng = rng; /* the retry draws the same level: same graph */
    return rc;
  }
  uint32_t v = (uint32_t)g->n;
  trove__graph_place(g, id, vec, level);
  if (g->max_level < 0) {
    g->entry = v;
    g->max_level = level;
    return 0;
  }
  trove__graph_connect(g, s, NULL, v, level);
  return 0;
}

size_t trove__graph_search(const trove__graph *g, trove__scratch *s, const float *q, size_t k,
                           size_t ef, const trove__admit *ad, trove_index_hit *out) {
  if (g->n == 0 || k == 0)
    return 0;
  if (ef < k)
    ef = k;
  uint32_t ep = g->entry;
  float es = g->dot(q, trove__vec(g, ep), g->p.dim);
  for (int l = g->max_level; l > 0; l--)
    greedy(g, NULL, s, q, &ep, &es, l);
  beam(g, NULL, s, q, ep, es, ef, 0, ad);
  size_t n = drain(s);
  if (n > k)
    n = k;
  for (size_t i = 0; i < n; i++)
    out[i] = (trove_index_hit){g->ids[s->buf[i].node], s->buf[i].key};
  return n;
}
