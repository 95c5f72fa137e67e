/* handles.c: the store handles request threads borrow. A trove_store
 * handle belongs to one thread at a time (store.h); opening one per request
 * would cost a schema check each time, and one per connection thread would
 * be unbounded. So handles are opened on demand up to a bound, kept, and
 * lent out under a mutex (the hand-over through it orders one borrower's
 * use before the next). The bound also caps concurrent searches, each of
 * which holds one: more requests than that wait their turn instead of
 * piling up on the cores. */
#include "serve_int.h"

int trove_serve__handles_init(serve_handles *h, const char *path, size_t max) {
  *h = (serve_handles){.path = path, .max = max ? max : 1};
  if (!(h->idle = trove_calloc(h->max, sizeof *h->idle)))
    return TROVE_ENOMEM;
  if (pthread_mutex_init(&h->mu, NULL)) {
    trove_free(h->idle);
    return TROVE_ENOMEM;
  }
  if (pthread_cond_init(&h->freed, NULL)) {
    pthread_mutex_destroy(&h->mu);
    trove_free(h->idle);
    return TROVE_ENOMEM;
  }
  return 0;
}

int trove_serve__handles_get(serve_handles *h, trove_store **out, trove_err *e) {
  *out = NULL;
  pthread_mutex_lock(&h->mu);
  while (h->n_idle == 0 && h->open == h->max)
    pthread_cond_wait(&h->freed, &h->mu);
  if (h->n_idle) {
    *out = h->idle[--h->n_idle];
    pthread_mutex_unlock(&h->mu);
    return 0;
  }
  h->open++; /* reserved: the open runs outside the lock */
  pthread_mutex_unlock(&h->mu);
  trove_store_opts o = {.path = h->path, .read_only_ok = true, .mmap_bytes = SERVE_MMAP_BYTES};
  int rc = trove_store_open(&o, out, e);
  if (rc) {
    pthread_mutex_lock(&h->mu);
    h->open--;
    pthread_cond_signal(&h->freed); /* the slot is free again */
    pthread_mutex_unlock(&h->mu);
  }
  return rc;
}

void trove_serve__handles_put(serve_handles *h, trove_store *st) {
  if (!st)
    return;
  pthread_mutex_lock(&h->mu);
  h->idle[h->n_idle++] = st; /* n_idle < open <= max: it was lent */
  pthread_cond_signal(&h->freed);
  pthread_mutex_unlock(&h->mu);
}

void trove_serve__handles_destroy(serve_handles *h) {
  if (!h->idle)
    return;
  for (size_t i = 0; i < h->n_idle; i++)
    trove_store_close(h->idle[i]);
  trove_free(h->idle);
  pthread_cond_destroy(&h->freed);
  pthread_mutex_destroy(&h->mu);
  *h = (serve_handles){0};
}
