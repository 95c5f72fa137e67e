/* repl.c: `trove` with no command on a terminal: an interactive prompt.
 * The database, the model and its vector index are opened once, so each
 * query costs the search alone (a one-shot `trove search` pays about 0.1 s
 * to load them). A line is a query; lines starting with ':' are commands:
 *   :mode [hybrid|semantic|keyword]   :n [N]   :source [NAME]   :type [TYPE]
 *   :open N (item N of the last results, as `trove print`)   :like N
 *   :help   :quit (or Ctrl-D)
 * Results print as `trove search` prints them (cli_print_results).
 * Line editing and history come from libedit (BSD-licensed) through its
 * readline interface; the history file is $XDG_STATE_HOME/trove/history
 * (else ~/.local/state/trove/history), rewritten after every line so that
 * Ctrl-C loses nothing, and capped at 1000 lines. */
#include "cli.h"
#include "search.h"

#include <editline/readline.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { HISTORY_LINES = 1000 };

static const char help[] =
    "Type a query to search. Commands:\n"
    "  :mode [hybrid|semantic|keyword]  show or set the search mode\n"
    "  :n [N]                           show or set how many results (1-1000)\n"
    "  :source [NAME]                   search one source only; no NAME: all\n"
    "  :type [local|web|bookmark]       search one type only; no TYPE: all\n"
    "  :open N                          print item N of the last results\n"
    "  :like N                          items similar to item N of the last results\n"
    "  :help                            this text\n"
    "  :quit                            leave (or Ctrl-D)";

typedef struct repl {
  const cli *c;
  trove_store *st;
  cli_model m;
  trove_search_params p;
  char *source;     /* p.source points here */
  int64_t *last;    /* the item ids of the last results, in rank order */
  size_t n_last;
  char *history;    /* the history file, or NULL when there is none */
} repl;

/* $XDG_STATE_HOME/trove/history or ~/.local/state/trove/history, its
 * folder made; NULL (with a warning) when neither can be. */
static char *history_path(void) {
  const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
  trove_buf b = {0};
  int rc = state && state[0] == '/' ? trove_buf_printf(&b, "%s/trove", state)
           : home && home[0]        ? trove_buf_printf(&b, "%s/.local/state/trove", home)
                                    : TROVE_EINVAL;
  for (size_t i = 1; rc == 0 && i <= b.len; i++) /* mkdir -p */
    if (b.data[i] == '/' || b.data[i] == 0) {
      char keep = b.data[i];
      b.data[i] = 0;
      if (mkdir(b.data, 0700) != 0 && errno != EEXIST)
        rc = TROVE_EIO;
      b.data[i] = keep;
    }
  rc = rc ? rc : trove_buf_puts(&b, "/history");
  if (rc) {
    if (rc != TROVE_ENOMEM)
      fprintf(stderr, "trove: warning: no history file (set XDG_STATE_HOME or HOME to a "
              "writable folder)\n");
    trove_buf_free(&b);
    return NULL;
  }
  return trove_buf_take(&b);
}

/* ---- searching -------------------------------------------------------------- */

/* Runs the search (query, or like when query is NULL) and prints it. */
static void search(repl *r, const char *query) {
  trove_search_params p = r->p;
  if (!query && p.mode == TROVE_SEARCH_KEYWORD)
    p.mode = TROVE_SEARCH_HYBRID; /* :like compares vectors whatever the mode */
  if (!r->m.embedder && (p.mode == TROVE_SEARCH_SEMANTIC || !query)) {
    printf("%s needs the model, which is not loaded (see the warning above)\n",
           query ? "semantic search" : ":like");
    return;
  }
  if (!r->m.embedder)
    p.mode = TROVE_SEARCH_KEYWORD;
  trove_search_result *res = NULL;
  size_t n = 0;
  trove_err e = {0};
  int rc = trove_search_run(r->st, trove_vectors_index(r->m.vectors), r->m.embedder, query, &p,
                            &res, &n, &e);
  if (rc) {
    trove_term_line(stdout, "trove: %s", e.msg[0] ? e.msg : trove_strerror(rc));
  } else {
    cli_print_results(res, n, cli_use_color(r->c, stdout), &p);
    int64_t *ids = n ? trove_calloc(n, sizeof *ids) : NULL;
    if (n && !ids) {
      fprintf(stderr, "trove: out of memory: :open and :like forget these results\n");
      n = 0;
    }
    for (size_t i = 0; i < n; i++)
      ids[i] = res[i].item_id;
    trove_free(r->last);
    r->last = ids;
    r->n_last = n;
  }
  trove_search_results_free(res, n);
  fflush(stdout);
}

/* Parses N of :open N and :like N into the item id of result N; prints why
 * not and returns false when it is not one of the last results. */
static bool result_id(const repl *r, const char *arg, int64_t *id) {
  int64_t k = 0;
  if (!cli_parse_id(arg, &k) || (size_t)k > r->n_last) {
    if (r->n_last)
      printf("give a result number from 1 to %zu\n", r->n_last);
    else
      printf("search first: N is a result number of the last search\n");
    return false;
  }
  *id = r->last[k - 1];
  return true;
}

static void open_item(repl *r, int64_t id) {
  trove_store_item it = {0};
  char *source = NULL;
  trove_err e = {0};
  int rc = trove_store_item_get(r->st, id, false, &it, &e);
  rc = rc ? rc : trove_store_source_name(r->st, it.source_id, &source, &e);
  if (rc)
    trove_term_line(stdout, "trove: %s", e.msg[0] ? e.msg : trove_strerror(rc));
  else
    cli_print_item(&it, source);
  trove_free(source);
  trove_store_item_clear(&it);
  fflush(stdout);
}

/* ---- commands --------------------------------------------------------------- */

static void set_mode(repl *r, const char *arg) {
  if (arg && trove_search_mode_parse(arg, &r->p.mode))
    printf("the modes are hybrid, semantic and keyword\n");
  else
    printf("mode %s\n", trove_search_mode_name(r->p.mode));
}

static void set_n(repl *r, const char *arg) {
  int64_t n = 0;
  if (arg && (!cli_parse_id(arg, &n) || n > 1000))
    printf(":n takes a count from 1 to 1000\n");
  else if (arg)
    r->p.n = (size_t)n;
  printf("%zu results\n", r->p.n);
}

static void set_source(repl *r, const char *arg) {
  char *copy = arg ? trove_strdup(arg) : NULL;
  if (arg && !copy) {
    fprintf(stderr, "trove: out of memory\n");
    return;
  }
  trove_free(r->source);
  r->source = copy;
  r->p.source = copy;
  trove_term_line(stdout, "source %s", copy ? copy : "all");
}

static void set_type(repl *r, const char *arg) {
  trove_item_type t = arg ? trove_item_type_parse(arg) : TROVE_ITEM_ANY;
  if (arg && t == TROVE_ITEM_ANY) {
    printf("the types are local, web and bookmark\n");
    return;
  }
  r->p.type = t;
  printf("type %s\n", arg ? trove_item_type_name(t) : "all");
}

/* Runs one :command (line without its ':'). Returns false for :quit. */
static bool command(repl *r, char *line) {
  char *arg = line + strcspn(line, " \t");
  if (*arg) {
    *arg++ = 0;
    arg += strspn(arg, " \t");
  }
  if (!*arg)
    arg = NULL;
  int64_t id = 0;
  if (strcmp(line, "quit") == 0 || strcmp(line, "q") == 0 || strcmp(line, "exit") == 0)
    return false;
  if (strcmp(line, "help") == 0 || strcmp(line, "h") == 0 || strcmp(line, "?") == 0)
    puts(help);
  else if (strcmp(line, "mode") == 0)
    set_mode(r, arg);
  else if (strcmp(line, "n") == 0)
    set_n(r, arg);
  else if (strcmp(line, "source") == 0)
    set_source(r, arg);
  else if (strcmp(line, "type") == 0)
    set_type(r, arg);
  else if (strcmp(line, "open") == 0 && result_id(r, arg, &id))
    open_item(r, id);
  else if (strcmp(line, "like") == 0 && result_id(r, arg, &id)) {
    r->p.like = id;
    search(r, NULL);
    r->p.like = 0;
  } else if (strcmp(line, "open") != 0 && strcmp(line, "like") != 0)
    trove_term_line(stdout, "unknown command :%s; :help lists them", line);
  fflush(stdout);
  return true;
}

/* ---- the loop ------------------------------------------------------------- */

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
    s[--n] = 0;
  return s;
}

static void loop(repl *r) {
  for (;;) {
    char *line = readline("trove> ");
    if (!line) { /* Ctrl-D */
      putchar('\n');
      break;
    }
    char *text = trim(line);
    bool more = true;
    if (*text) {
      add_history(text);
      if (r->history)
        write_history(r->history); /* every line: a Ctrl-C loses nothing */
      if (text[0] == ':')
        more = command(r, text + 1);
      else
        search(r, text);
    }
    free(line); /* readline's own allocation */
    if (!more)
      break;
  }
}

int cli_repl(const cli *c) {
  repl r = {.c = c};
  trove_search_params_default(&r.p);
  int rc = cli_open_existing(c, &r.st);
  rc = rc ? rc : cli_model_open(c, r.st, false, true, &r.m);
  if (rc) {
    trove_store_close(r.st);
    return rc;
  }
  trove_err e = {0};
  if (r.m.vectors && trove_vectors_try_save(r.m.vectors, r.st, &e)) /* as a search does */
    trove_term_line(stderr, "trove: warning: %s", e.msg);
  if (!r.m.embedder)
    r.p.mode = TROVE_SEARCH_KEYWORD;
  r.history = history_path();
  stifle_history(HISTORY_LINES);
  if (r.history)
    read_history(r.history); /* none yet is fine */
  trove_term_line(stdout, "trove: %s search of %s; type a query, :help for commands, Ctrl-D "
                  "to leave", trove_search_mode_name(r.p.mode), trove_store_path(r.st));
  loop(&r);
  if (r.history)
    write_history(r.history);
  trove_free(r.history);
  trove_free(r.last);
  trove_free(r.source);
  cli_model_close(&r.m);
  trove_store_close(r.st);
  return CLI_OK;
}
