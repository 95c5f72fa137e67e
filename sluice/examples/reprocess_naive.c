/* reprocess_naive.c: a reprocess pipeline written the naive way, on the ONE
 * global pool:
 *   1. read rows            (a thread)      -> "rows", batches of 64
 *   2. re-extract in parallel on the global pool, sending each result into
 *      the bounded channel "extracted" from inside the parallel loop
 *   3. embed: collect 64, tokenize them with a parallel loop on the same
 *      global pool, "run the model"       -> "embedded"
 *   4. write to the DB       (main thread)
 * With Rayon this stalls at 0% CPU once stage 2's sends fill the channel
 * while stage 3 waits for a pool thread. With sluice it finishes: blocked
 * workers are compensated, and stage 3's thread takes part in its own loop.
 * Run with SLUICE_WATCHDOG=2 to have any stall explained in words. */
#include <pthread.h>
#include <sluice.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS 4000
#define BATCH 64

typedef struct row {
  int id;
  char text[96];
  unsigned hash;
} row;

typedef struct batch {
  size_t n;
  row *rows[BATCH];
} batch;

static sl_chan *rows_ch, *extracted_ch, *embedded_ch;

static unsigned work(const char *s, unsigned rounds) {
  unsigned h = 2166136261u;
  for (unsigned r = 0; r < rounds; r++)
    for (const char *p = s; *p; p++)
      h = (h ^ (unsigned char)*p) * 16777619u;
  return h;
}

static void *read_rows(void *arg) {
  (void)arg;
  sl_thread_set_name("read rows");
  for (int id = 0; id < ROWS;) {
    batch *b = calloc(1, sizeof *b);
    for (; b->n < BATCH && id < ROWS; id++) {
      row *r = calloc(1, sizeof *r);
      r->id = id;
      snprintf(r->text, sizeof r->text, "<p>item %d of the reading list</p>", id);
      b->rows[b->n++] = r;
    }
    sl_chan_send(rows_ch, &b);
  }
  sl_chan_close(rows_ch);
  return NULL;
}

static void reextract(void *ctx, size_t lo, size_t hi) {
  batch *b = ctx;
  for (size_t i = lo; i < hi; i++) {
    row *r = b->rows[i];
    r->hash = work(r->text, 200);          /* the new parser */
    sl_chan_send(extracted_ch, &r);        /* blocking send inside the loop */
  }
}

static void *reprocess(void *arg) {
  (void)arg;
  sl_thread_set_name("re-extract");
  batch *b;
  while (sl_chan_recv(rows_ch, &b) == 0) {
    sl_for(0, b->n, 1, reextract, b);      /* the global pool */
    free(b);
  }
  sl_chan_close(extracted_ch);
  return NULL;
}

static void tokenize(void *ctx, size_t lo, size_t hi) {
  batch *b = ctx;
  for (size_t i = lo; i < hi; i++)
    b->rows[i]->hash ^= work(b->rows[i]->text, 100);
}

static void *embed(void *arg) {
  (void)arg;
  sl_thread_set_name("embed");
  batch *b = calloc(1, sizeof *b);
  row *r;
  int rc;
  do {
    rc = sl_chan_recv(extracted_ch, &r);
    if (rc == 0)
      b->rows[b->n++] = r;
    if (b->n == BATCH || (rc != 0 && b->n)) {
      sl_for(0, b->n, 1, tokenize, b);     /* the same global pool */
      for (size_t i = 0; i < b->n; i++)
        sl_chan_send(embedded_ch, &b->rows[i]);
      b->n = 0;
    }
  } while (rc == 0);
  free(b);
  sl_chan_close(embedded_ch);
  return NULL;
}

int main(void) {
  if (sl_chan_create(&rows_ch, "rows", sizeof(batch *), 4) ||
      sl_chan_create(&extracted_ch, "extracted", sizeof(row *), 64) ||
      sl_chan_create(&embedded_ch, "embedded", sizeof(row *), 8)) {
    fprintf(stderr, "reprocess_naive: cannot create channels\n");
    return 1;
  }
  int64_t t0 = sl_now_ns();
  pthread_t t1, t2, t3;
  pthread_create(&t1, NULL, read_rows, NULL);
  pthread_create(&t2, NULL, reprocess, NULL);
  pthread_create(&t3, NULL, embed, NULL);
  int written = 0;
  row *r;
  while (sl_chan_recv(embedded_ch, &r) == 0) { /* stage 4: "write the DB" */
    written++;
    free(r);
  }
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  pthread_join(t3, NULL);
  printf("reprocess_naive: %d of %d rows written in %.2f s on the one global pool of %u threads\n",
         written, ROWS, (double)(sl_now_ns() - t0) / 1e9, sl_current_num_threads());
  return written == ROWS ? 0 : 1;
}
