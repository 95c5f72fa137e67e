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
 * the M closest" strands whole clusters. One departure from the paper: on
 * level 0 a spanning tree of "anchored" links is exempt from that re-prune
 * (see "anchors" below), because the re-prune alone can drop a node's last
 * in-link and strand it.
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
 * Its first back link is the one to its anchor, which publishes it.
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
 * - Level 0 is strongly connected: each node but the first lists, and is
 *   listed by, its anchor (slot 1 of its own level-0 list, never changed
 *   once set), a node linked before it. Not checked on load: a file written
 *   before anchors loads and works, without the guarantee for old nodes.
 * - entry has level max_level; max_level == -1 iff n == 0.
 * - A graph being changed is not mapped (trove_index__graph_own first).
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
 * - Plain HNSW strands a node whose every in-link was pruned (found only
 *   by the exact scan). Measured on clustered data before anchors: 9 of
 *   2000 nodes at M = 4, dimension 24; 3-8 of 20000 at M = 16, dimension
 *   128-256. Anchors make that impossible for single-threaded inserts; a
 *   parallel one goes unanchored only if other inserts fill every node
 *   just before its walk reaches it (never seen). Recall at a given ef
 *   did not move at M >= 8; at M = 4 it fell ~1 point at ef <= 32.
 * - Searches are read-only and need no node locks; they never run during
 *   a parallel insert (index.c holds the write lock).
 */
#include "index_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void trove_index__graph_init(trove_index__graph *g, const trove_index_params *p) {
  memset(g, 0, sizeof *g);
  g->p = *p;
  g->m0 = 2 * p->m;
  g->ml = 1.0 / log((double)p->m);
  g->dot = trove_index__dot_pick();
  g->max_level = -1;
  g->rng = p->seed ^ 0x9E3779B97F4A7C15ULL;
}

void trove_index__graph_free(trove_index__graph *g) {
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
  trove_index__idmap_free(&g->map);
  trove_index_params p = g->p;
  trove_index__graph_init(g, &p);
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
static int own_at(trove_index__graph *g, size_t cap) {
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

int trove_index__graph_own(trove_index__graph *g) { return own_at(g, g->cap); }

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
static int grow(trove_index__graph *g, size_t need) {
  if (need <= g->cap)
    return trove_index__graph_own(g);
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

static int grow_upper(trove_index__graph *g, size_t words) {
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

int trove_index__scratch_fit(trove_index__scratch *s, const trove_index__graph *g, size_t n,
                             size_t ef) {
  if (n > s->mark_cap) {
    size_t cap = n < 1024 ? 1024 : n + n / 2;
    if (regrow((void **)&s->mark, cap, sizeof(uint16_t)))
      return TROVE_ENOMEM;
    memset(s->mark + s->mark_cap, 0, (cap - s->mark_cap) * sizeof(uint16_t));
    s->mark_cap = cap;
  }
  /* Each visited node enters the candidate heap at most once: n bounds it. */
  size_t ncand = n + 1, nres = ef + 1, nnb = (size_t)g->m0 + 2;
  if (trove_index__heap_reserve(&s->cand, ncand) || trove_index__heap_reserve(&s->res, nres))
    return TROVE_ENOMEM;
  if (nres > s->buf_cap) {
    if (regrow((void **)&s->buf, nres, sizeof(trove_index__hitem)))
      return TROVE_ENOMEM;
    s->buf_cap = nres;
  }
  if (nnb > s->nb_cap) {
    if (regrow((void **)&s->nb, nnb, sizeof(trove_index__hitem)) ||
        regrow((void **)&s->lbuf, nnb, sizeof(uint32_t)) ||
        regrow((void **)&s->sel, nnb * (TROVE_INDEX__MAX_LEVEL + 1), sizeof(uint32_t)))
      return TROVE_ENOMEM;
    s->nb_cap = nnb;
  }
  return 0;
}

void trove_index__scratch_free(trove_index__scratch *s) {
  trove_free(s->mark);
  trove_index__heap_free(&s->cand);
  trove_index__heap_free(&s->res);
  trove_free(s->buf);
  trove_free(s->nb);
  trove_free(s->lbuf);
  trove_free(s->sel);
  memset(s, 0, sizeof *s);
}

/* Starts a new visited set: marks of older searches are all < gen. */
static void visit_begin(trove_index__scratch *s) {
  if (++s->gen == 0) {
    memset(s->mark, 0, s->mark_cap * sizeof(uint16_t));
    s->gen = 1;
  }
}

/* xorshift64*: fast, and good enough for level draws. */
static uint64_t next_rand(trove_index__graph *g) {
  g->rng ^= g->rng >> 12;
  g->rng ^= g->rng << 25;
  g->rng ^= g->rng >> 27;
  return g->rng * 0x2545F4914F6CDD1DULL;
}

static int draw_level(trove_index__graph *g) {
  double u = ((double)(next_rand(g) >> 11) + 1.0) * 0x1.0p-53; /* (0, 1] */
  double l = floor(-log(u) * g->ml);
  return l > TROVE_INDEX__MAX_LEVEL ? TROVE_INDEX__MAX_LEVEL : (int)l;
}

static void lock_node(const trove_index__locks *lk, uint32_t v) {
  pthread_mutex_lock((pthread_mutex_t *)&lk->node[v % TROVE_INDEX__STRIPES]);
}

static void unlock_node(const trove_index__locks *lk, uint32_t v) {
  pthread_mutex_unlock((pthread_mutex_t *)&lk->node[v % TROVE_INDEX__STRIPES]);
}

/* The list of node at level: in place when single-threaded (lk NULL), else
 * a copy taken under the node's lock into s->lbuf, since a parallel insert
 * may be rewriting it. */
static const uint32_t *read_links(const trove_index__graph *g, const trove_index__locks *lk,
                                  trove_index__scratch *s, uint32_t node, int level) {
  const uint32_t *l = trove_index__links(g, node, level);
  if (!lk)
    return l;
  lock_node(lk, node);
  memcpy(s->lbuf, l, (1 + (size_t)l[0]) * sizeof(uint32_t));
  unlock_node(lk, node);
  return s->lbuf;
}

/* Greedy walk on one level from *ep (score *es) to a local best. */
static void greedy(const trove_index__graph *g, const trove_index__locks *lk,
                   trove_index__scratch *s, const float *q, uint32_t *ep, float *es, int level) {
  for (bool moved = true; moved;) {
    moved = false;
    const uint32_t *l = read_links(g, lk, s, *ep, level);
    for (uint32_t j = 1; j <= l[0]; j++) {
      float sc = g->dot(q, trove_index__vec(g, l[j]), g->p.dim);
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
static void beam(const trove_index__graph *g, const trove_index__locks *lk, trove_index__scratch *s,
                 const float *q, uint32_t ep, float es, size_t ef, int level,
                 const trove_index__admit *ad) {
  visit_begin(s);
  s->cand.len = s->res.len = 0;
  s->mark[ep] = s->gen;
  trove_index__heap_push(&s->cand, es, ep);
  if (!ad || trove_index__admitted(g, ad, ep))
    trove_index__heap_push(&s->res, -es, ep);
  while (s->cand.len > 0) {
    trove_index__hitem c = trove_index__heap_pop(&s->cand);
    if (s->res.len >= ef && c.key < -s->res.a[0].key)
      break;
    const uint32_t *l = read_links(g, lk, s, c.node, level);
    for (uint32_t j = 1; j <= l[0]; j++) {
      uint32_t e = l[j];
      if (s->mark[e] == s->gen)
        continue;
      s->mark[e] = s->gen;
      if (j < l[0])
        __builtin_prefetch(trove_index__vec(g, l[j + 1]));
      float sc = g->dot(q, trove_index__vec(g, e), g->p.dim);
      if (s->res.len < ef || sc > -s->res.a[0].key) {
        trove_index__heap_push(&s->cand, sc, e);
        if (!ad || trove_index__admitted(g, ad, e)) {
          trove_index__heap_push(&s->res, -sc, e);
          if (s->res.len > ef)
            trove_index__heap_pop(&s->res);
        }
      }
    }
  }
}

/* Empties s->res into s->buf best first (keys back to scores); count. */
static size_t drain(trove_index__scratch *s) {
  size_t n = s->res.len;
  for (size_t i = n; i > 0; i--) {
    trove_index__hitem h = trove_index__heap_pop(&s->res);
    s->buf[i - 1] = (trove_index__hitem){-h.key, h.node};
  }
  return n;
}

static int by_score_desc(const void *a, const void *b) {
  float x = ((const trove_index__hitem *)a)->key, y = ((const trove_index__hitem *)b)->key;
  return (x < y) - (x > y);
}

/* Candidate c is more similar to the base than to every kept[1..n]: the
 * test of Algorithm 4. */
static bool diverse(const trove_index__graph *g, trove_index__hitem c, const uint32_t *kept,
                    uint32_t n) {
  const float *v = trove_index__vec(g, c.node);
  for (uint32_t r = 1; r <= n; r++)
    if (g->dot(v, trove_index__vec(g, kept[r]), g->p.dim) > c.key)
      return false;
  return true;
}

/* Algorithm 4 without extension: from c[0..nc) (best first, keys are
 * similarities to the base node) keep those more similar to the base than to
 * any already kept, at most mmax, into dst[1..]; dst[0] = count. */
static void select_heuristic(const trove_index__graph *g, const trove_index__hitem *c, size_t nc,
                             uint32_t mmax, uint32_t *dst) {
  uint32_t kept = 0;
  for (size_t i = 0; i < nc && kept < mmax; i++)
    if (diverse(g, c[i], dst, kept))
      dst[++kept] = c[i].node;
  dst[0] = kept;
}

/* ---- anchors: no node is ever stranded ---------------------------------
 * The heuristic re-prune of a full list may drop a node's last in-link (an
 * outlier is the least similar candidate of each of its few neighbours, so
 * all of them drop it), and then no search finds that node at any ef. So
 * level 0 keeps a spanning tree that no prune cuts: every node but the
 * first has an anchor, a node linked before it that it links to and that
 * links back, and a prune keeps every anchored link (both halves).
 * Following anchors leads to ever older nodes and ends at the first, so
 * level 0 stays strongly connected and a beam reaches every node from
 * wherever it starts.
 *
 * A node's anchor is slot 1 of its level-0 list (UINT32_MAX while the list
 * is empty): no array of its own, and it survives save and load. A prune
 * rewrites slots 2.. only, so once set the slot never changes and parallel
 * inserts read it without the node's lock. A new node takes as anchor the
 * first of its chosen neighbours with fewer than M anchored links, else the
 * first such node a walk of level 0 out from its beam's results meets. One
 * always exists: a list holds at most its node's anchor and the links to
 * the nodes it anchors, below 2 per node summed over all nodes, and
 * M >= 2. The cap of M leaves at least half of every list to the
 * heuristic.
 */

/* The anchor of node x (slot 1 of its level-0 list). */
static uint32_t anchor_of(const trove_index__graph *g, uint32_t x) {
  return trove_index__links(g, x, 0)[1];
}

/* The level-0 link e -> y is anchored (l is e's list): y is e's anchor or
 * e is y's. */
static bool anchored(const trove_index__graph *g, const uint32_t *l, uint32_t e, uint32_t y) {
  return l[1] == y || anchor_of(g, y) == e;
}

/* Re-prunes e's full level-0 list l from the candidates in s->nb[0..nc)
 * (its entries and the new node, best first) as select_heuristic does,
 * except that anchored links are kept whatever the heuristic says, and room
 * is left for those still to come. Built in s->lbuf, then copied back past
 * slot 1, which holds e's anchor and may be read by other threads. */
static void prune_level0(const trove_index__graph *g, trove_index__scratch *s, uint32_t e,
                         uint32_t *l, size_t nc) {
  const trove_index__hitem *c = s->nb;
  uint32_t *dst = s->lbuf, kept = 0, at = 1;
  size_t left = 0; /* anchored candidates not yet reached */
  for (size_t i = 0; i < nc; i++)
    left += anchored(g, l, e, c[i].node);
  for (size_t i = 0; i < nc; i++) {
    bool must = anchored(g, l, e, c[i].node);
    left -= must;
    if (must ? kept < g->m0 : kept + left < g->m0 && diverse(g, c[i], dst, kept))
      dst[++kept] = c[i].node;
  }
  /* Move e's anchor to slot 1. Only a graph with more than 2M anchored
   * links in one list (a corrupt file) lacks it; then the last one kept
   * makes way, and the list is still valid. */
  while (at < kept && dst[at] != l[1])
    at++;
  dst[at] = dst[1];
  memcpy(l + 2, dst + 2, (kept - 1) * sizeof *l);
  l[0] = kept;
}

/* Adds v to e's list on level, e's lock held when parallel; a full list is
 * re-pruned with v among the candidates, as the paper's Algorithm 1
 * prescribes. */
static void add_link(const trove_index__graph *g, trove_index__scratch *s, uint32_t e, uint32_t v,
                     int level) {
  uint32_t *l = trove_index__links(g, e, level);
  uint32_t cap = level == 0 ? g->m0 : g->p.m;
  if (l[0] < cap) {
    l[++l[0]] = v;
    return;
  }
  const float *ev = trove_index__vec(g, e);
  size_t nc = 0;
  for (uint32_t j = 1; j <= l[0]; j++)
    s->nb[nc++] = (trove_index__hitem){g->dot(ev, trove_index__vec(g, l[j]), g->p.dim), l[j]};
  s->nb[nc++] = (trove_index__hitem){g->dot(ev, trove_index__vec(g, v), g->p.dim), v};
  qsort(s->nb, nc, sizeof *s->nb, by_score_desc);
  if (level == 0)
    prune_level0(g, s, e, l, nc);
  else
    select_heuristic(g, s->nb, nc, cap, l);
}

/* Adds v to e's list on level. Holds e's lock when parallel, so two
 * inserts never prune one list at once. */
static void link_back(const trove_index__graph *g, const trove_index__locks *lk,
                      trove_index__scratch *s, uint32_t e, uint32_t v, int level) {
  if (lk)
    lock_node(lk, e);
  add_link(g, s, e, v, level);
  if (lk)
    unlock_node(lk, e);
}

/* Puts e in slot 1 of v's level-0 list, appending it if v did not choose
 * it (there is room: v chose at most M of 2M). */
static void set_anchor(const trove_index__graph *g, uint32_t v, uint32_t e) {
  uint32_t *l = trove_index__links(g, v, 0), j = 1;
  while (j <= l[0] && l[j] != e)
    j++;
  if (j > l[0])
    l[++l[0]] = e;
  l[j] = l[1];
  l[1] = e;
}

/* Makes e the anchor of v and links e -> v, if e has fewer than M anchored
 * links. Nothing links to v yet, so v's list is written without its lock;
 * the unlock of e publishes it. */
static bool link_anchor(const trove_index__graph *g, const trove_index__locks *lk,
                        trove_index__scratch *s, uint32_t e, uint32_t v) {
  if (lk)
    lock_node(lk, e);
  const uint32_t *l = trove_index__links(g, e, 0);
  uint32_t n = 0;
  for (uint32_t j = 1; j <= l[0]; j++)
    n += anchored(g, l, e, l[j]);
  bool room = n < g->p.m;
  if (room) {
    set_anchor(g, v, e);
    add_link(g, s, e, v, 0);
  }
  if (lk)
    unlock_node(lk, e);
  return room;
}

static bool listed(const uint32_t *l, uint32_t x) {
  for (uint32_t j = 1; j <= l[0]; j++)
    if (l[j] == x)
      return true;
  return false;
}

/* Anchors v to the first node with room met by a breadth-first walk of
 * level 0 out from its beam's results s->buf[0..nres), skipping sel (tried
 * already); returns it, or UINT32_MAX when none has room. The walk meets
 * only linked nodes, so it is safe when parallel, and it meets them all
 * (level 0 is strongly connected), so it fails only if parallel inserts
 * fill each node just before the walk reaches it. The queue is s->cand's
 * array: it holds n items, and a node enters once. */
static uint32_t anchor_walk(const trove_index__graph *g, const trove_index__locks *lk,
                            trove_index__scratch *s, uint32_t v, const uint32_t *sel, size_t nres) {
  trove_index__hitem *q = s->cand.a;
  size_t head = 0, tail = 0;
  visit_begin(s);
  for (size_t i = 0; i < nres; i++) {
    s->mark[s->buf[i].node] = s->gen;
    q[tail++].node = s->buf[i].node;
  }
  while (head < tail) {
    uint32_t e = q[head++].node;
    if (!listed(sel, e) && link_anchor(g, lk, s, e, v))
      return e;
    const uint32_t *l = read_links(g, lk, s, e, 0);
    for (uint32_t j = 1; j <= l[0]; j++)
      if (s->mark[l[j]] != s->gen) {
        s->mark[l[j]] = s->gen;
        q[tail++].node = l[j];
      }
  }
  return UINT32_MAX;
}

/* Anchors v, whose chosen level-0 neighbours are sel and whose level-0 beam
 * results are s->buf[0..nres): to the first of sel with room (nearly
 * always sel[1], its nearest), else by the walk. Returns the anchor. */
static uint32_t anchor_new(const trove_index__graph *g, const trove_index__locks *lk,
                           trove_index__scratch *s, uint32_t v, const uint32_t *sel, size_t nres) {
  for (uint32_t j = 1; j <= sel[0]; j++)
    if (link_anchor(g, lk, s, sel[j], v))
      return sel[j];
  return anchor_walk(g, lk, s, v, sel, nres);
}

int trove_index__graph_reserve(trove_index__graph *g, size_t nodes, size_t upper_words) {
  int rc = grow(g, nodes);
  return rc ? rc : grow_upper(g, upper_words);
}

int trove_index__graph_draw_level(trove_index__graph *g) { return draw_level(g); }

void trove_index__graph_place(trove_index__graph *g, uint64_t id, const float *vec, int level) {
  uint32_t v = (uint32_t)g->n;
  memcpy(g->vecs + (size_t)v * g->p.dim, vec, (size_t)g->p.dim * sizeof(float));
  g->ids[v] = id;
  g->levels[v] = (uint8_t)level;
  g->dead[v] = 0;
  g->l0[(size_t)v * (1 + g->m0)] = 0;
  g->l0[(size_t)v * (1 + g->m0) + 1] = UINT32_MAX; /* no anchor yet */
  g->up_off[v] = g->up_len;
  for (int l = 0; l < level; l++)
    g->upper[g->up_len + (size_t)l * (1 + g->p.m)] = 0;
  g->up_len += (size_t)level * (1 + g->p.m);
  g->n++;
}

/* The entry point, read under lk->entry when parallel. A node that will
 * become the new top keeps the lock for its whole insert (rare: about
 * log_M(n) times per build), so no other insert starts from a stale top. */
static bool take_entry(trove_index__graph *g, const trove_index__locks *lk, int level, uint32_t *ep,
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

void trove_index__graph_connect(trove_index__graph *g, trove_index__scratch *s,
                                const trove_index__locks *lk, uint32_t v, int level) {
  uint32_t ep;
  int top;
  bool new_top = take_entry(g, lk, level, &ep, &top);
  const float *q = trove_index__vec(g, v);
  float es = g->dot(q, trove_index__vec(g, ep), g->p.dim);
  for (int l = top; l > level; l--)
    greedy(g, lk, s, q, &ep, &es, l);
  /* Phase 1: choose v's neighbours on every level and write its lists. No
   * list links to v yet, so no other thread can reach v and the writes need
   * no lock; link_back's unlock below publishes them. Doing every level
   * before any back link matters when parallel: a thread reaching v early
   * must not find half-built lists (a dead end), nor may v's own write
   * overwrite a back link another insert already added to v. */
  int from = level < top ? level : top;
  size_t per = (size_t)g->m0 + 2, nc = 0;
  for (int l = from; l >= 0; l--) {
    beam(g, lk, s, q, ep, es, g->p.ef_construction, l, NULL);
    nc = drain(s);
    uint32_t *sel = s->sel + (size_t)l * per;
    select_heuristic(g, s->buf, nc, g->p.m, sel);
    memcpy(trove_index__links(g, v, l), sel, (1 + (size_t)sel[0]) * sizeof(uint32_t));
    ep = s->buf[0].node;
    es = s->buf[0].key;
  }
  /* Phase 2: back links, from the saved selections (v's own lists may now
   * change under other threads). The anchor's comes first: it publishes v,
   * so v's anchor slot is final before any thread can read it. s->buf
   * still holds the level-0 beam. */
  uint32_t a = anchor_new(g, lk, s, v, s->sel, nc);
  for (int l = from; l >= 0; l--) {
    const uint32_t *sel = s->sel + (size_t)l * per;
    for (uint32_t j = 1; j <= sel[0]; j++)
      if (l > 0 || sel[j] != a)
        link_back(g, lk, s, sel[j], v, l);
  }
  if (new_top) {
    g->entry = v;
    g->max_level = level;
    if (lk)
      pthread_mutex_unlock((pthread_mutex_t *)&lk->entry);
  }
}

int trove_index__graph_insert(trove_index__graph *g, trove_index__scratch *s, uint64_t id,
                              const float *vec) {
  if (g->n >= UINT32_MAX - 1)
    return TROVE_ERANGE;
  uint64_t rng = g->rng;
  int level = draw_level(g);
  int rc = trove_index__graph_reserve(g, g->n + 1, (size_t)level * (1 + g->p.m));
  if (!rc)
    rc = trove_index__idmap_reserve(&g->map, g->map.len + 1);
  if (!rc)
    rc = trove_index__scratch_fit(s, g, g->n + 1, g->p.ef_construction);
  if (!rc)
    rc = trove_index__idmap_put(&g->map, id, (uint32_t)g->n); /* fails only on a live id */
  if (rc) {
    g->rng = rng; /* the retry draws the same level: same graph */
    return rc;
  }
  uint32_t v = (uint32_t)g->n;
  trove_index__graph_place(g, id, vec, level);
  if (g->max_level < 0) {
    g->entry = v;
    g->max_level = level;
    return 0;
  }
  trove_index__graph_connect(g, s, NULL, v, level);
  return 0;
}

size_t trove_index__graph_search(const trove_index__graph *g, trove_index__scratch *s,
                                 const float *q, size_t k, size_t ef, const trove_index__admit *ad,
                                 trove_index_hit *out) {
  if (g->n == 0 || k == 0)
    return 0;
  if (ef < k)
    ef = k;
  uint32_t ep = g->entry;
  float es = g->dot(q, trove_index__vec(g, ep), g->p.dim);
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
