/* cmd_item.c: commands on one item by id: `trove print ID [--raw [--force]]`
 * (its fields and text, or the raw content as stored) and `trove
 * hide|unhide ID` (search skips hidden items; scans keep them hidden).
 * Fields and text are escaped for the terminal (trove_term_*, core.h); raw
 * content is written byte for byte, so it goes to a terminal only with
 * --force: a stored page can hold escape sequences that act on it. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage_print[] =
    "trove print ID [--raw [--force]]\n"
    "  --raw:   the content as stored, byte for byte (to a file or a pipe)\n"
    "  --force: write --raw content to a terminal too, escape sequences and all";
static const char usage_hide[] = "trove hide ID | trove unhide ID";

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

int cmd_print(const cli *c, int argc, char **argv) {
  if (cli_wants_help(argc, argv, usage_print))
    return CLI_OK;
  bool raw = false, force = false;
  const char *ids = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--raw") == 0)
      raw = true;
    else if (strcmp(argv[i], "--force") == 0)
      force = true;
    else if (ids || argv[i][0] == '-')
      return cli_usage_error(usage_print, "unexpected argument \"%s\"", argv[i]);
    else
      ids = argv[i];
  }
  int64_t id = 0;
  if (force && !raw)
    return cli_usage_error(usage_print, "--force goes with --raw");
  if (!cli_parse_id(ids, &id))
    return cli_usage_error(usage_print, "print needs an item ID (a positive number; see trove search)");
  trove_store *st = NULL;
  trove_store_item it = {0};
  trove_err e = {0};
  int rc = cli_open_read(c, &st);
  int trc = rc ? 0 : trove_store_item_get(st, id, raw, &it, &e);
  if (trc) {
    rc = cli_fail(&e, trc);
  } else if (rc == CLI_OK && raw) {
    rc = print_raw(&it, force);
  } else if (rc == CLI_OK) {
    printf("%-12s %lld\n", "id", (long long)it.id);
    field("title", it.title);
    field("type", trove_item_type_name(it.type));
    field("path", it.external_id);
    field("author", it.author);
    field("language", it.language);
    field("description", it.description);
    field("skipped", it.skip_reason);
    field("error", it.error);
    if (it.charset_guessed)
      field("charset", "guessed: neither marked nor declared, read as windows-1252 or UTF-16");
    if (it.hidden_at)
      printf("%-12s yes\n", "hidden");
    putchar('\n');
    if (it.text)
      trove_term_write(stdout, it.text, strlen(it.text), TROVE_TERM_TEXT);
    putchar('\n');
  }
  trove_store_item_clear(&it);
  trove_store_close(st);
  return rc;
}

int cmd_hide(const cli *c, int argc, char **argv) {
  if (cli_wants_help(argc, argv, usage_hide))
    return CLI_OK;
  bool hide = strcmp(argv[0], "hide") == 0;
  int64_t id = 0;
  if (argc != 2 || !cli_parse_id(argv[1], &id))
    return cli_usage_error(usage_hide, "%s needs one item ID (a positive number)", argv[0]);
  trove_store *st = NULL;
  trove_err e = {0};
  int rc = cli_open(c, &st);
  int trc = rc ? 0 : trove_store_item_set_hidden(st, id, hide, &e);
  if (trc)
    rc = cli_fail(&e, trc);
  else if (rc == CLI_OK)
    printf("%s item %lld\n", hide ? "hid" : "unhid", (long long)id);
  trove_store_close(st);
  return rc;
}
