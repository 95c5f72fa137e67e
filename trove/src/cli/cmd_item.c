/* cmd_item.c: commands on one item by id: `trove print ID [--raw [--force]
 * | --json]` (its fields and text, or the raw content as stored) and `trove
 * hide|unhide ID` (search skips hidden items; scans keep them hidden).
 * Fields and text are escaped for the terminal (trove_term_*, core.h); raw
 * content is written byte for byte, so it goes to a terminal only with
 * --force: a stored page can hold escape sequences that act on it. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage_print[] =
    "trove print ID [--raw [--force] | --json]\n"
    "  fields (title, type, path, last visit or modification, skip reason, expired from\n"
    "  the browser's history...), then text\n"
    "  --raw:   the content as stored, byte for byte (to a file or a pipe)\n"
    "  --force: write --raw content to a terminal too, escape sequences and all\n"
    "  --json:  the fields and text as one JSON object";
static const char usage_hide[] =
    "trove hide ID | trove unhide ID\n"
    "  search skips hidden items, and scans keep them hidden; trove skipped lists them";

static void field(const char *name, const char *v) {
  if (v && v[0])
    trove_term_line(stdout, "%-12s %s", name, v);
}

/* Writes the item's raw content to stdout, unless stdout is a terminal and
 * !force. CLI_OK or CLI_ERR, the reason printed. */
static int print_raw(const trove_store_item *it, bool force) {
  if (!it->raw) {
    fprintf(stderr, "trove: item %lld has no stored raw content\n", (long long)it->id);
    return CLI_ERR;
  }
  if (!force && isatty(STDOUT_FILENO)) {
    fprintf(stderr, "trove: item %lld's raw content may hold sequences that act on the "
            "terminal; redirect it to a file or a pager, or add --force\n", (long long)it->id);
    return CLI_ERR;
  }
  fwrite(it->raw, 1, it->raw_len, stdout);
  return CLI_OK;
}

/* A time field: the Unix seconds in JSON, null when unknown. */
static void json_time(trove_json_out *o, const char *key, int64_t t) {
  if (t > 0)
    trove_json_out_int(o, key, t);
  else
    trove_json_out_str(o, key, NULL);
}

static int print_json(const trove_store_item *it, const char *source) {
  trove_buf b = {0};
  trove_json_out o = {.b = &b};
  trove_json_out_object(&o, NULL);
  trove_json_out_int(&o, "id", it->id);
  trove_json_out_str(&o, "source", source);
  trove_json_out_str(&o, "type", trove_item_type_name(it->type));
  trove_json_out_str(&o, "title", it->title);
  trove_json_out_str(&o, "path", it->external_id);
  trove_json_out_str(&o, "author", it->author);
  trove_json_out_str(&o, "language", it->language);
  trove_json_out_str(&o, "description", it->description);
  json_time(&o, "visited", it->last_visited);
  json_time(&o, "modified", it->mtime_us / 1000000);
  trove_json_out_str(&o, "skipped", it->skip_reason);
  trove_json_out_str(&o, "error", it->error);
  trove_json_out_bool(&o, "charset_guessed", it->charset_guessed);
  trove_json_out_bool(&o, "hidden", it->hidden_at != 0);
  json_time(&o, "expired", it->expired_at);
  trove_json_out_str(&o, "text", it->text);
  trove_json_out_end(&o);
  return cli_json_print(&o, 0);
}

void cli_print_item(const trove_store_item *it, const char *source) {
  char when[32];
  printf("%-12s %lld\n", "id", (long long)it->id);
  field("title", it->title);
  field("source", source);
  field("type", trove_item_type_name(it->type));
  field("path", it->external_id);
  if (it->last_visited > 0)
    field("visited", cli_format_time(it->last_visited, when));
  if (it->mtime_us > 0)
    field("modified", cli_format_time(it->mtime_us / 1000000, when));
  field("author", it->author);
  field("language", it->language);
  field("description", it->description);
  field("skipped", it->skip_reason);
  field("error", it->error);
  if (it->charset_guessed)
    field("charset", "guessed: neither marked nor declared, read as windows-1252 or UTF-16");
  if (it->hidden_at)
    printf("%-12s yes (trove unhide %lld)\n", "hidden", (long long)it->id);
  if (it->expired_at)
    printf("%-12s since %s: gone from the browser's history, which expired it; kept\n",
           "expired", cli_format_time(it->expired_at, when));
  putchar('\n');
  if (it->text)
    trove_term_write(stdout, it->text, strlen(it->text), TROVE_TERM_TEXT);
  putchar('\n');
}

enum { P_RAW, P_FORCE, P_JSON };
static const cli_opt print_opts[] = {
    [P_RAW] = {"raw", 0, false}, [P_FORCE] = {"force", 0, false}, [P_JSON] = {"json", 0, false},
    {0}};

static int on_print_opt(void *ctx, int id, const char *val) {
  (void)val;
  ((bool *)ctx)[id] = true;
  return CLI_OK;
}

int cmd_print(cli *c, int argc, char **argv) {
  bool flag[3] = {false};
  int npos = 0;
  int rc = cli_parse(c, usage_print, print_opts, on_print_opt, flag, argc, argv, &npos);
  if (rc)
    return rc;
  int64_t id = 0;
  if (npos > 1)
    return cli_usage_error(usage_print, "unexpected argument \"%s\"", argv[2]);
  if (flag[P_FORCE] && !flag[P_RAW])
    return cli_usage_error(usage_print, "--force goes with --raw");
  if (flag[P_JSON] && flag[P_RAW])
    return cli_usage_error(usage_print, "--json and --raw do not go together");
  if (npos == 0 || !cli_parse_id(argv[1], &id))
    return cli_usage_error(usage_print, "print needs an item ID (a positive number; see "
                           "trove search)");
  trove_store *st = NULL;
  trove_store_item it = {0};
  char *source = NULL;
  trove_err e = {0};
  rc = cli_open_existing(c, &st);
  int trc = rc ? 0 : trove_store_item_get(st, id, flag[P_RAW], &it, &e);
  if (trc == 0 && rc == CLI_OK && !flag[P_RAW])
    trc = trove_store_source_name(st, it.source_id, &source, &e);
  if (trc)
    rc = cli_fail(&e, trc);
  else if (rc == CLI_OK && flag[P_RAW])
    rc = print_raw(&it, flag[P_FORCE]);
  else if (rc == CLI_OK && flag[P_JSON])
    rc = print_json(&it, source);
  else if (rc == CLI_OK)
    cli_print_item(&it, source);
  trove_free(source);
  trove_store_item_clear(&it);
  trove_store_close(st);
  return rc;
}

int cmd_hide(cli *c, int argc, char **argv) {
  int npos = 0;
  int rc = cli_parse(c, usage_hide, NULL, NULL, NULL, argc, argv, &npos);
  if (rc)
    return rc;
  bool hide = strcmp(argv[0], "hide") == 0;
  int64_t id = 0;
  if (npos != 1 || !cli_parse_id(argv[1], &id))
    return cli_usage_error(usage_hide, "%s needs one item ID (a positive number)", argv[0]);
  trove_store *st = NULL;
  trove_err e = {0};
  rc = cli_open_existing(c, &st);
  int trc = rc ? 0 : trove_store_item_set_hidden(st, id, hide, &e);
  if (trc)
    rc = cli_fail(&e, trc);
  else if (rc == CLI_OK)
    printf("%s item %lld\n", hide ? "hid" : "unhid", (long long)id);
  trove_store_close(st);
  return rc;
}
