/* cli_args.c: option parsing for every trove command, one parser so that
 * every command reads its line the same way, as POSIX getopt and GNU
 * getopt_long do: --name VALUE and --name=VALUE, -n VALUE and -nVALUE,
 * bundled flags (-vn1), "--" ending the options. The global options
 * (--db, --model, --no-model, --kernel, -v, --color) are known to the
 * parser itself, so they work before the command (main.c) and anywhere
 * after it: `trove search x --db P` is `trove --db P search x`. No command
 * option shares a name with a global one. Also whether to write color. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { G_DB, G_MODEL, G_NO_MODEL, G_KERNEL, G_VERBOSE, G_COLOR, G_HELP };

static const cli_opt globals[] = {
    [G_DB] = {"db", 0, true},         [G_MODEL] = {"model", 0, true},
    [G_NO_MODEL] = {"no-model", 0, false}, [G_KERNEL] = {"kernel", 0, true},
    [G_VERBOSE] = {"verbose", 'v', false}, [G_COLOR] = {"color", 0, true},
    [G_HELP] = {"help", 'h', false},  {0},
};

static int set_global(cli *c, const char *usage, int id, const char *val) {
  switch (id) {
  case G_DB:
    if (!val[0])
      return cli_usage_error(usage, "--db needs a path");
    c->db = val;
    break;
  case G_MODEL:
    if (!val[0])
      return cli_usage_error(usage, "--model needs a directory");
    c->model = val;
    break;
  case G_NO_MODEL:
    c->no_model = true;
    break;
  case G_KERNEL:
    if (!trove_embedder_kernel_known(val))
      return cli_usage_error(usage, "--kernel %s: use auto, fp32, int8 or bf16", val);
    c->kernel = val;
    break;
  case G_VERBOSE:
    c->verbose = true;
    break;
  case G_COLOR:
    if (strcmp(val, "auto") == 0)
      c->color = CLI_COLOR_AUTO;
    else if (strcmp(val, "always") == 0)
      c->color = CLI_COLOR_ALWAYS;
    else if (strcmp(val, "never") == 0)
      c->color = CLI_COLOR_NEVER;
    else
      return cli_usage_error(usage, "--color takes auto, always or never, not \"%s\"", val);
    break;
  default:
    printf("usage: %s\n", usage);
    return CLI_HELP;
  }
  return CLI_OK;
}

/* An option found: which table, which entry. */
typedef struct found {
  const cli_opt *opt;
  int id;
  bool global;
} found;

static bool find_long(const cli_opt *opts, const char *name, size_t len, found *f) {
  for (int g = 0; g < 2; g++) {
    const cli_opt *t = g ? globals : opts;
    for (int i = 0; t && t[i].name; i++)
      if (strlen(t[i].name) == len && strncmp(t[i].name, name, len) == 0) {
        *f = (found){&t[i], i, g == 1};
        return true;
      }
  }
  return false;
}

static bool find_short(const cli_opt *opts, char ch, found *f) {
  for (int g = 0; g < 2; g++) {
    const cli_opt *t = g ? globals : opts;
    for (int i = 0; t && t[i].name; i++)
      if (t[i].short_name && t[i].short_name == ch) {
        *f = (found){&t[i], i, g == 1};
        return true;
      }
  }
  return false;
}

typedef struct parser {
  cli *c;
  const char *usage;
  cli_opt_fn fn;
  void *ctx;
} parser;

static int apply(const parser *p, const found *f, const char *val) {
  return f->global ? set_global(p->c, p->usage, f->id, val)
                   : p->fn ? p->fn(p->ctx, f->id, val) : CLI_OK;
}

/* --name, --name=value or --name value at argv[*i]; *i moves past what it
 * used. */
static int long_option(const parser *p, const cli_opt *opts, int argc, char **argv, int *i) {
  const char *name = argv[*i] + 2, *eq = strchr(name, '=');
  size_t len = eq ? (size_t)(eq - name) : strlen(name);
  found f;
  if (!find_long(opts, name, len, &f))
    return cli_usage_error(p->usage, "unknown option --%.*s", (int)len, name);
  if (!f.opt->value && eq)
    return cli_usage_error(p->usage, "--%s takes no value", f.opt->name);
  const char *val = eq ? eq + 1 : NULL;
  if (f.opt->value && !val) {
    if (*i + 1 == argc)
      return cli_usage_error(p->usage, "--%s needs a value", f.opt->name);
    val = argv[++*i];
  }
  return apply(p, &f, val);
}

/* -x, -xVALUE, -x VALUE or bundled flags -xyz at argv[*i]. */
static int short_options(const parser *p, const cli_opt *opts, int argc, char **argv, int *i) {
  for (const char *s = argv[*i] + 1; *s; s++) {
    found f;
    if (!find_short(opts, *s, &f))
      return cli_usage_error(p->usage, "unknown option -%c%s", *s,
                             s == argv[*i] + 1 ? "" : " (in a bundle of short options)");
    const char *val = NULL;
    if (f.opt->value) {
      if (s[1])
        val = s + 1;
      else if (*i + 1 < argc)
        val = argv[++*i];
      else
        return cli_usage_error(p->usage, "-%c needs a value", *s);
    }
    int rc = apply(p, &f, val);
    if (rc || val)
      return rc;
  }
  return CLI_OK;
}

static int parse(cli *c, const char *usage, const cli_opt *opts, cli_opt_fn fn, void *ctx,
                 int argc, char **argv, bool head, int *out) {
  parser p = {c, usage, fn, ctx};
  int npos = 0;
  bool options = true;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    int rc = CLI_OK;
    if (options && strcmp(s, "--") == 0) {
      options = false;
      continue;
    }
    if (!options || s[0] != '-' || !s[1]) { /* a positional ("-" is one) */
      if (head) {
        *out = i;
        return CLI_OK;
      }
      argv[++npos] = argv[i];
      continue;
    }
    rc = s[1] == '-' ? long_option(&p, opts, argc, argv, &i)
                     : short_options(&p, opts, argc, argv, &i);
    if (rc)
      return rc;
  }
  *out = head ? argc : npos;
  return CLI_OK;
}

int cli_parse(cli *c, const char *usage, const cli_opt *opts, cli_opt_fn fn, void *ctx,
              int argc, char **argv, int *npos) {
  return parse(c, usage, opts, fn, ctx, argc, argv, false, npos);
}

int cli_parse_head(cli *c, const char *usage, const cli_opt *opts, cli_opt_fn fn, void *ctx,
                   int argc, char **argv, int *first) {
  return parse(c, usage, opts, fn, ctx, argc, argv, true, first);
}

bool cli_use_color(const cli *c, FILE *f) {
  if (c->color != CLI_COLOR_AUTO)
    return c->color == CLI_COLOR_ALWAYS;
  const char *no = getenv("NO_COLOR");
  return !(no && no[0]) && isatty(fileno(f));
}
