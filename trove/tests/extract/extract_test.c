/* extract_test.c: reader-mode extraction on a corpus of page shapes (a doc
 * page, a blog post with comments, a news page with ads and share bars, a
 * forum thread, pages with no article, a link hub, broken HTML) plus
 * Markdown, plain text, hostile input, every error code and an allocation
 * fault loop. Each case asserts what is kept and what is dropped.
 * Usage: extract_test CORPUS runs every case but the Python docs';
 * extract_test CORPUS PYDOCS runs only that one on the tree PYDOCS, and
 * reports skipped (exit 77) when the tree is absent. */
#include "extract.h"
#include "core_test_hooks.h" /* trove_alloc_fail_after */

#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *corpus = "corpus";

static char *slurp_path(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)n + 1);
  *len = b ? fread(b, 1, (size_t)n, f) : 0;
  fclose(f);
  return b;
}

static char *slurp(const char *name, size_t *len) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", corpus, name);
  return slurp_path(path, len);
}

static bool utf8_valid(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  for (size_t i = 0; i < n;) {
    size_t k = p[i] < 0x80 ? 1 : (p[i] >> 5) == 6 ? 2 : (p[i] >> 4) == 14 ? 3 : (p[i] >> 3) == 30 ? 4 : 0;
    if (!k || i + k > n || (p[i] == 0 && i < n))
      return false;
    for (size_t j = 1; j < k; j++)
      if ((p[i + j] & 0xC0) != 0x80)
        return false;
    i += k;
  }
  return true;
}

/* The invariants every document keeps: strings valid, blocks in order,
 * inside the text, non-empty, separated by a blank line. */
static void check_shape(const trove_doc *d) {
  CHECK(d->title && d->byline && d->excerpt && d->lang && d->text);
  CHECK(strlen(d->text) == d->text_len);
  CHECK(utf8_valid(d->text, d->text_len) && utf8_valid(d->title, strlen(d->title)) &&
        utf8_valid(d->excerpt, strlen(d->excerpt)) && utf8_valid(d->byline, strlen(d->byline)));
  CHECK(d->is_link_hub == (d->kind == TROVE_DOC_LINK_HUB));
  CHECK(d->link_density >= 0 && d->link_density <= 1);
  size_t at = 0;
  for (size_t i = 0; i < d->n_blocks; i++) {
    const trove_block *b = &d->blocks[i];
    CHECK(b->len > 0 && b->start >= at && b->start + b->len <= d->text_len);
    if (i > 0)
      CHECK(b->start == at + 2 && memcmp(d->text + at, "\n\n", 2) == 0);
    CHECK(b->kind != TROVE_BLOCK_HEADING || (b->level >= 1 && b->level <= 6));
    at = b->start + b->len;
  }
  CHECK(at == d->text_len);
}

static trove_doc *html(const char *name, const char *base) {
  size_t len = 0;
  char *b = slurp(name, &len);
  trove_doc *d = NULL;
  trove_err err = {0};
  CHECK(b != NULL);
  if (!b)
    return NULL;
  int rc = trove_extract_html(b, len, base, &d, &err);
  CHECK(rc == 0 && d != NULL);
  if (rc)
    fprintf(stderr, "%s: %s\n", name, err.msg);
  free(b);
  if (d)
    check_shape(d);
  return d;
}

static bool has(const trove_doc *d, const char *s) { return d && strstr(d->text, s) != NULL; }

/* The block whose text starts with s, or NULL. */
static const trove_block *block_at(const trove_doc *d, const char *s) {
  for (size_t i = 0; d && i < d->n_blocks; i++)
    if (strncmp(d->text + d->blocks[i].start, s, strlen(s)) == 0)
      return &d->blocks[i];
  return NULL;
}

/* ---- corpus ---------------------------------------------------------------- */

static void doc_page_keeps_body_code_table_and_drops_navigation(void) {
  trove_doc *d = html("doc.html", NULL);
  if (!d)
    return;
  CHECK(d->kind == TROVE_DOC_ARTICLE && !d->is_link_hub);
  CHECK(strcmp(d->title, "Configuring the frobnicator") == 0);
  CHECK(strcmp(d->lang, "en") == 0);
  CHECK(has(d, "Values given on the command line always win over the file."));
  CHECK(has(d, "Minimum confidence before a widget is frobbed."));
  CHECK(has(d, "Reloading never changes the number of workers"));
  CHECK(!has(d, "SCRIPT TEXT") && !has(d, "STYLE TEXT"));
  CHECK(!has(d, "Table of Contents") && !has(d, "Previous topic") && !has(d, "Show Source"));
  CHECK(!has(d, "Quick search") && !has(d, "Navigation") && !has(d, "Copyright"));
  CHECK(!has(d, "User guide") && !has(d, "\xC2\xB6")); /* breadcrumbs, permalink marks */
  const trove_block *h = block_at(d, "The settings file");
  CHECK(h && h->kind == TROVE_BLOCK_HEADING && h->level == 2 && h->len == strlen("The settings file"));
  h = block_at(d, "Configuring the frobnicator");
  CHECK(h && h->kind == TROVE_BLOCK_HEADING && h->level == 1);
  const trove_block *code = block_at(d, "[frob]");
  CHECK(code && code->kind == TROVE_BLOCK_CODE);
  CHECK(code && memmem(d->text + code->start, code->len, "workers   = 4\n\n# logs", 21));
  const trove_block *row = block_at(d, "threshold | 0.5 | Minimum");
  CHECK(row && row->kind == TROVE_BLOCK_ROW);
  const trove_block *item = block_at(d, "2. If it is valid");
  CHECK(item && item->kind == TROVE_BLOCK_ITEM && item->level == 1);
  CHECK(strncmp(d->excerpt, "The frobnicator reads its settings", 34) == 0);
  trove_doc_destroy(d);
}

static void blog_keeps_post_and_drops_comments_sidebar_share(void) {
  trove_doc *d = html("blog.html", "https://shed.example/2026/cron");
  if (!d)
    return;
  CHECK(d->kind == TROVE_DOC_ARTICLE);
  CHECK(strcmp(d->title, "Why I stopped using cron for backups") == 0);
  CHECK(strcmp(d->byline, "Jane Doe") == 0);
  CHECK(strcmp(d->lang, "en-US") == 0);
  CHECK(strncmp(d->excerpt, "Cron ran my backups for nine years.", 35) == 0);
  CHECK(has(d, "cron is very good at not telling you."));
  CHECK(has(d, "compares it, byte for byte, with the original."));
  CHECK(has(d, "- A check that the copy can actually be read back."));
  const trove_block *q = block_at(d, "A backup you have not restored");
  CHECK(q && q->kind == TROVE_BLOCK_QUOTE);
  CHECK(!has(d, "Spammy Sam") && !has(d, "cheap-backups") && !has(d, "same thing happen with a NAS"));
  CHECK(!has(d, "Popular posts") && !has(d, "Share on Twitter") && !has(d, "Powered by"));
  CHECK(!has(d, "Archive") && !has(d, "Tagged"));
  trove_doc_destroy(d);
}

static void news_keeps_story_and_drops_ads_share_related_cookie(void) {
  trove_doc *d = html("news.html", "https://www.dailyexample.com/news/local/park");
  if (!d)
    return;
  CHECK(d->kind == TROVE_DOC_ARTICLE);
  CHECK(strcmp(d->title, "Council approves riverside park after three-year fight") == 0);
  CHECK(strcmp(d->byline, "Omar Haddad") == 0);
  CHECK(strcmp(d->lang, "en-GB") == 0);
  CHECK(strcmp(d->excerpt, "The riverside park plan passed by nine votes to four on Tuesday night.") == 0);
  CHECK(has(d, "ending a dispute that has run since 2023."));
  CHECK(has(d, "could open in 2028, the council said."));
  CHECK(has(d, "Harbourline said it was disappointed"));
  const trove_block *h = block_at(d, "What happens next");
  CHECK(h && h->kind == TROVE_BLOCK_HEADING && h->level == 2);
  CHECK(!has(d, "cookies") && !has(d, "SuperPhone") && !has(d, "ADVERTISEMENT"));
  CHECK(!has(d, "Share this article") && !has(d, "Related stories") && !has(d, "Gasworks site sold"));
  CHECK(!has(d, "Most read") && !has(d, "morning briefing") && !has(d, "Privacy"));
  CHECK(!has(d, "Sport") && !has(d, "Local affairs reporter"));
  trove_doc_destroy(d);
}

static void forum_keeps_every_post_and_drops_chrome(void) {
  trove_doc *d = html("forum.html", NULL);
  if (!d)
    return;
  CHECK(d->kind == TROVE_DOC_ARTICLE);
  CHECK(strcmp(d->title, "Kernel panic after upgrading to 6.9") == 0);
  CHECK(strcmp(d->lang, "de") == 0);
  CHECK(has(d, "Booting the old kernel from the menu works fine."));
  CHECK(has(d, "rebuild the initramfs."));
  CHECK(has(d, "so the power saving was not worth much anyway."));
  const trove_block *code = block_at(d, "options iwlwifi power_save=0");
  CHECK(code && code->kind == TROVE_BLOCK_CODE);
  CHECK(!has(d, "Sent from my terminal") && !has(d, "Similar threads") && !has(d, "Post reply"));
  CHECK(!has(d, "Powered by") && !has(d, "Hardware & Drivers"));
  trove_doc_destroy(d);
}

static void login_page_has_no_article_but_keeps_title(void) {
  trove_doc *d = html("login.html", NULL);
  if (!d)
    return;
  CHECK(d->kind == TROVE_DOC_NONE && !d->is_link_hub);
  CHECK(d->text_len == 0 && d->n_blocks == 0 && d->blocks == NULL);
  CHECK(strcmp(d->title, "Sign in") == 0);
  CHECK(strcmp(d->excerpt, "Sign in to your Example Cloud account.") == 0);
  trove_doc_destroy(d);
}

/* Extracts an inline page; NULL (a failed CHECK) when it cannot. */
static trove_doc *html_str(const char *page) {
  trove_doc *d = NULL;
  CHECK(trove_extract_html(page, strlen(page), NULL, &d, NULL) == 0 && d);
  return d;
}

static void short_page_keeps_its_body_text(void) {
  trove_doc *d = html("short.html", NULL); /* one short paragraph: no candidate scores */
  if (!d)
    return;
  CHECK(d->kind == TROVE_DOC_ARTICLE && has(d, "zanzibar password hint"));
  CHECK(strcmp(d->title, "Short note") == 0);
  trove_doc_destroy(d);
  /* text straight in the body or a div is a paragraph too */
  d = html_str("<html><body><div>milk, eggs and flour</div><script>x()</script></body></html>");
  CHECK(d && d->kind == TROVE_DOC_ARTICLE && has(d, "milk, eggs and flour") && !has(d, "x()"));
  trove_doc_destroy(d);
}

static void short_boilerplate_page_still_has_no_article(void) {
  /* what is left once forms, navigation and links are taken away is no
   * sentence: headings, a two-word line, link text */
  const char *pages[] = {
      "<body><h1>Sign in</h1><form><input name=u><p>Your email address here</p></form>"
      "<p>New here? <a href=/j>Create an account</a></p></body>",
      "<body><nav><p>Home page of the whole site</p></nav><p><a href=/a>Read the full "
      "story</a></p></body>",
      "<body><figure><img src=a.jpg><figcaption>Sheep on the ridge</figcaption></figure></body>",
  };
  for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
    trove_doc *d = html_str(pages[i]);
    CHECK(d && d->kind == TROVE_DOC_NONE && d->text_len == 0);
    trove_doc_destroy(d);
  }
}

static void gallery_of_captions_has_no_article(void) {
  trove_doc *d = html("gallery.html", NULL);
  if (!d)
    return;
  CHECK(d->kind == TROVE_DOC_NONE && d->text_len == 0);
  CHECK(strcmp(d->title, "Autumn in the hills") == 0);
  CHECK(strcmp(d->excerpt, "Twelve photos from a week of walking.") == 0);
  trove_doc_destroy(d);
}

static void link_list_is_a_hub_with_its_link_texts(void) {
  trove_doc *d = html("links.html", NULL);
  if (!d)
    return;
  CHECK(d->kind == TROVE_DOC_LINK_HUB && d->is_link_hub);
  CHECK(d->link_density > 0.9);
  CHECK(has(d, "- How SQLite tests itself") && has(d, "- Sentence piece tokenisation"));
  const trove_block *h = block_at(d, "Reading list");
  CHECK(h && h->kind == TROVE_BLOCK_HEADING);
  trove_doc_destroy(d);
}

static void article_pages_are_not_hubs_and_have_low_link_density(void) {
  const char *pages[] = {"doc.html", "blog.html", "news.html", "forum.html"};
  for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
    trove_doc *d = html(pages[i], NULL);
    CHECK(d && !d->is_link_hub && d->link_density < 0.2);
    trove_doc_destroy(d);
  }
}

static void truncated_tag_soup_keeps_what_precedes_the_cut(void) {
  trove_doc *d = html("truncated.html", NULL);
  if (!d)
    return;
  CHECK(d->kind == TROVE_DOC_ARTICLE);
  CHECK(strcmp(d->title, "Broken page") == 0);
  CHECK(has(d, "and so must we, with all of its words."));
  CHECK(has(d, "Stray end tags appear here and bold nesting goes wrong in the old way that "
               "tag-soup pages have, but the sentence should survive intact."));
  CHECK(has(d, "cell without row end | second cell"));
  trove_doc_destroy(d);
}

/* ---- the Python documentation (the demo corpus), when installed ------------------------ */

static const char *pydocs; /* argv[2]: the Python docs tree */

static trove_doc *pydoc(const char *name) {
  char path[1024];
  size_t len = 0;
  snprintf(path, sizeof path, "%s/%s", pydocs, name);
  char *b = slurp_path(path, &len);
  trove_doc *d = NULL;
  CHECK(b && trove_extract_html(b, len, NULL, &d, NULL) == 0 && d);
  free(b);
  if (d)
    check_shape(d);
  return d;
}

static void python_docs_indexes_are_hubs_and_pages_are_clean(void) {
  const char *hubs[] = {"genindex-A.html", "py-modindex.html", "library/index.html",
                        "whatsnew/index.html"};
  for (size_t i = 0; i < sizeof hubs / sizeof hubs[0]; i++) {
    trove_doc *d = pydoc(hubs[i]);
    CHECK(d && d->is_link_hub && d->text_len > 1000);
    if (d && !d->is_link_hub)
      fprintf(stderr, "  %s is not flagged as a hub\n", hubs[i]);
    trove_doc_destroy(d);
  }
  trove_doc *d = pydoc("library/asyncio-task.html");
  if (d) {
    CHECK(d->kind == TROVE_DOC_ARTICLE && strcmp(d->title, "Coroutines and Tasks") == 0);
    CHECK(strcmp(d->lang, "en") == 0);
    CHECK(has(d, "This section outlines high-level asyncio APIs to work with coroutines"));
    const trove_block *code = block_at(d, ">>> import asyncio");
    CHECK(code && code->kind == TROVE_BLOCK_CODE);
    CHECK(!has(d, "Previous topic") && !has(d, "Navigation") && !has(d, "Report a Bug") &&
          !has(d, "Show Source") && !has(d, "Theme") && !has(d, "\xC2\xB6"));
    const trove_block *h = block_at(d, "Coroutines and Tasks");
    CHECK(h && h->kind == TROVE_BLOCK_HEADING && h->level == 1);
  }
  trove_doc_destroy(d);
}

/* ---- titles ------------------------------------------------------------------ */

static char *title_of(const char *head, const char *body, const char *base) {
  char page[2048];
  snprintf(page, sizeof page, "<html><head>%s</head><body>%s<p>%s</p></body></html>", head, body,
           "Enough prose to make this page an article, with commas, clauses, and a full stop at "
           "the end of a sentence that runs on for a while longer than eighty characters.");
  trove_doc *d = NULL;
  CHECK(trove_extract_html(page, strlen(page), base, &d, NULL) == 0 && d);
  char *t = d ? strdup(d->title) : NULL;
  trove_doc_destroy(d);
  return t;
}

static void title_suffixes_and_site_names_are_removed(void) {
  struct {
    const char *head, *body, *base, *want;
  } cases[] = {
      {"<title>asyncio \xE2\x80\x94 Asynchronous I/O \xE2\x80\x94 Python 3.11.2 documentation</title>",
       "", NULL, "asyncio \xE2\x80\x94 Asynchronous I/O"},
      {"<title>Index \xE2\x80\x94 Python 3.11.2 documentation</title>", "<h1>Index</h1>", NULL,
       "Index"},
      {"<title>Python - Wikipedia</title>", "", NULL, "Python - Wikipedia"},
      {"<title>Search \xE2\x80\x94 Python 3.11.2 documentation</title>", "", NULL, "Search"},
      {"<title>Example News | Council votes on park plan</title>"
       "<meta property=\"og:site_name\" content=\"Example News\">",
       "", NULL, "Council votes on park plan"},
      {"<title>Park plan passes - ExampleNews</title>", "", "https://www.examplenews.com/a/1",
       "Park plan passes"},
      {"<title>Ignored</title><meta property=\"og:title\" content=\"  The  real title \">", "",
       NULL, "The real title"},
      {"", "<h1>Only an h1</h1>", NULL, "Only an h1"},
      {"<title></title>", "", NULL, ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *t = title_of(cases[i].head, cases[i].body, cases[i].base);
    CHECK(t && strcmp(t, cases[i].want) == 0);
    if (t && strcmp(t, cases[i].want) != 0)
      fprintf(stderr, "  title case %zu: got [%s], want [%s]\n", i, t, cases[i].want);
    free(t);
  }
}

/* ---- hostile input --------------------------------------------------------------- */

static void invalid_utf8_and_nul_become_valid_text(void) {
  const char page[] = "<html><head><title>Bad \xff\xfe bytes</title></head><body><p>Latin-1 caf\xe9 "
                      "and a lone continuation \x80 byte and an overlong \xc0\xaf slash and a "
                      "surrogate \xed\xa0\x80 and a NUL \0 in the middle of a long enough sentence "
                      "for the extractor to keep it.</p></body></html>";
  trove_doc *d = NULL;
  CHECK(trove_extract_html(page, sizeof page - 1, NULL, &d, NULL) == 0 && d);
  if (!d)
    return;
  check_shape(d);
  CHECK(strstr(d->text, "caf\xEF\xBF\xBD and") != NULL);
  CHECK(strstr(d->title, "Bad") && utf8_valid(d->title, strlen(d->title)));
  CHECK(has(d, "in the middle of a long enough sentence"));
  trove_doc_destroy(d);
}

static void declared_windows_1252_is_reencoded(void) {
  const char page[] = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
                      "charset=ISO-8859-1\"><title>Caf\xe9 menu</title></head><body><p>The "
                      "caf\xe9 sells \x93proper\x94 coffee for \x80 2, na\xefve as that "
                      "sounds \x96 and it is open every day of the week, all year.</p></body></html>";
  trove_doc *d = NULL;
  CHECK(trove_extract_html(page, sizeof page - 1, NULL, &d, NULL) == 0 && d);
  if (!d)
    return;
  check_shape(d);
  CHECK(strcmp(d->title, "Caf\xC3\xA9 menu") == 0);
  CHECK(has(d, "The caf\xC3\xA9 sells \xE2\x80\x9Cproper\xE2\x80\x9D coffee for \xE2\x82\xAC 2, "
               "na\xC3\xAFve as that sounds \xE2\x80\x93 and"));
  trove_doc_destroy(d);
  /* Declared Latin-1 but valid UTF-8 (a common mislabel): left as UTF-8. */
  const char utf8[] = "<meta charset=latin1><p>The caf\xC3\xA9 is open every day of the week, "
                      "all year round, from seven in the morning until late at night.</p>";
  CHECK(trove_extract_html(utf8, sizeof utf8 - 1, NULL, &d, NULL) == 0 && d);
  CHECK(d && has(d, "The caf\xC3\xA9 is open"));
  trove_doc_destroy(d);
}

static void empty_input_gives_no_article(void) {
  trove_doc *d = NULL;
  CHECK(trove_extract_html("", 0, NULL, &d, NULL) == 0 && d);
  CHECK(d && d->kind == TROVE_DOC_NONE && d->text_len == 0 && d->title[0] == '\0');
  trove_doc_destroy(d);
  d = NULL;
  CHECK(trove_extract_markdown("", 0, &d, NULL) == 0 && d && d->kind == TROVE_DOC_NONE);
  trove_doc_destroy(d);
  d = NULL;
  CHECK(trove_extract_text("", 0, &d, NULL) == 0 && d && d->kind == TROVE_DOC_NONE);
  trove_doc_destroy(d);
}

static void huge_page_keeps_first_and_last_paragraph(void) {
  enum { PARAS = 6000 };
  size_t cap = (size_t)PARAS * 200 + 256, n = 0;
  char *page = malloc(cap);
  n += (size_t)snprintf(page + n, cap - n, "<html><body><div class=\"content\">");
  for (int i = 0; i < PARAS; i++)
    n += (size_t)snprintf(page + n, cap - n,
                          "<p>Paragraph %d says something, at length, about nothing much at all, "
                          "so that the page grows past a megabyte.</p>\n",
                          i);
  n += (size_t)snprintf(page + n, cap - n, "</div></body></html>");
  trove_doc *d = NULL;
  CHECK(trove_extract_html(page, n, NULL, &d, NULL) == 0 && d);
  if (d) {
    check_shape(d);
    CHECK(d->kind == TROVE_DOC_ARTICLE && d->n_blocks == PARAS);
    CHECK(has(d, "Paragraph 0 says") && has(d, "Paragraph 5999 says"));
  }
  trove_doc_destroy(d);
  free(page);
}

static void deep_nesting_below_the_limit_extracts(void) {
  enum { DEPTH = 1500 };
  size_t cap = DEPTH * 12 + 512, n = 0;
  char *page = malloc(cap);
  for (int i = 0; i < DEPTH; i++)
    n += (size_t)snprintf(page + n, cap - n, "<div><span>");
  n += (size_t)snprintf(page + n, cap - n,
                        "<p>The deepest paragraph still counts as prose, and it is long enough, "
                        "with commas, to be the article of this odd page.</p>");
  trove_doc *d = NULL;
  CHECK(trove_extract_html(page, n, NULL, &d, NULL) == 0 && d);
  CHECK(d && has(d, "The deepest paragraph still counts as prose"));
  trove_doc_destroy(d);
  free(page);
}

static void nesting_past_the_limit_is_unsupported(void) {
  size_t n = (size_t)(TROVE_EXTRACT_MAX_NESTING + 10) * 5;
  char *page = malloc(n);
  for (size_t i = 0; i < n; i += 5)
    memcpy(page + i, "<div>", 5);
  trove_doc *d = (trove_doc *)page; /* must be overwritten with NULL */
  trove_err err = {0};
  CHECK(trove_extract_html(page, n, NULL, &d, &err) == TROVE_EUNSUPPORTED);
  CHECK(d == NULL && err.code == TROVE_EUNSUPPORTED && strstr(err.msg, "nests"));
  /* Closed tags, comments and script text do not deepen. */
  size_t m = 0;
  char *flat = malloc((size_t)(TROVE_EXTRACT_MAX_NESTING + 10) * 32);
  for (int i = 0; i < TROVE_EXTRACT_MAX_NESTING + 10; i++)
    m += (size_t)sprintf(flat + m, "<b>x</b><!--<div>--><br>");
  CHECK(trove_extract_html(flat, m, NULL, &d, NULL) == 0 && d);
  trove_doc_destroy(d);
  free(flat);
  free(page);
}

static void too_large_input_is_erange(void) {
  size_t n = (size_t)TROVE_EXTRACT_MAX_INPUT + 1;
  char *big = calloc(1, n);
  trove_doc *d = NULL;
  trove_err err = {0};
  CHECK(big && trove_extract_html(big, n, NULL, &d, &err) == TROVE_ERANGE && !d);
  CHECK(err.code == TROVE_ERANGE && strstr(err.msg, "limit"));
  CHECK(trove_extract_markdown(big, n, &d, NULL) == TROVE_ERANGE && !d);
  CHECK(trove_extract_text(big, n, &d, NULL) == TROVE_ERANGE && !d);
  free(big);
}

static void null_arguments_are_einval(void) {
  trove_doc *d = NULL;
  trove_err err = {0};
  CHECK(trove_extract_html(NULL, 3, NULL, &d, &err) == TROVE_EINVAL && err.code == TROVE_EINVAL);
  CHECK(trove_extract_html("<p>", 3, NULL, NULL, NULL) == TROVE_EINVAL);
  CHECK(trove_extract_markdown(NULL, 0, &d, NULL) == TROVE_EINVAL);
  CHECK(trove_extract_markdown("x", 1, NULL, NULL) == TROVE_EINVAL);
  CHECK(trove_extract_text(NULL, 0, &d, NULL) == TROVE_EINVAL);
  CHECK(trove_extract_text("x", 1, NULL, NULL) == TROVE_EINVAL);
  trove_doc_destroy(NULL);
}

/* ---- Markdown and text ---------------------------------------------------------- */

static void markdown_front_matter_and_structure(void) {
  size_t len = 0;
  char *md = slurp("note.md", &len);
  trove_doc *d = NULL;
  CHECK(md && trove_extract_markdown(md, len, &d, NULL) == 0 && d);
  free(md);
  if (!d)
    return;
  check_shape(d);
  CHECK(d->kind == TROVE_DOC_ARTICLE);
  CHECK(strcmp(d->title, "Backups that tell you") == 0);
  CHECK(strcmp(d->byline, "Jane Doe") == 0);
  CHECK(strcmp(d->lang, "en") == 0);
  CHECK(strcmp(d->excerpt, "A short note on backup jobs that report success as well as failure.") == 0);
  CHECK(has(d, "Intro paragraph with emphasis, strong, a link to docs, an image a diagram and "
               "inline_code() that keeps snake_case_names intact."));
  CHECK(!has(d, "https://example.org") && !has(d, "title:") && !has(d, "<b>"));
  const trove_block *b = block_at(d, "Setting up");
  CHECK(b && b->kind == TROVE_BLOCK_HEADING && b->level == 1);
  b = block_at(d, "Setext heading");
  CHECK(b && b->kind == TROVE_BLOCK_HEADING && b->level == 2);
  b = block_at(d, "2. Write the job:");
  CHECK(b && b->kind == TROVE_BLOCK_ITEM && b->level == 1);
  b = block_at(d, "- verify one");
  CHECK(b && b->kind == TROVE_BLOCK_ITEM && b->level == 2);
  b = block_at(d, "systemctl enable");
  CHECK(b && b->kind == TROVE_BLOCK_CODE &&
        memmem(d->text + b->start, b->len, "timer\n\n# comment inside code stays", 34));
  b = block_at(d, "Quoted advice that spans two lines.");
  CHECK(b && b->kind == TROVE_BLOCK_QUOTE);
  b = block_at(d, "retries | 3");
  CHECK(b && b->kind == TROVE_BLOCK_ROW);
  CHECK(!has(d, "|---"));
  b = block_at(d, "indented code line");
  CHECK(b && b->kind == TROVE_BLOCK_CODE);
  CHECK(has(d, "Inline HTML is stripped."));
  trove_doc_destroy(d);
}

/* Front matter values are YAML scalars: double quotes decode their escapes,
 * single quotes read '' as ', a plain value ends at a " #" comment, and a
 * list's first item is decoded the same way. */
static void markdown_front_matter_decodes_yaml_scalars(void) {
  const char md[] = "---\n"
                    "title: \"Rock \\\"n\\\" Roll \\u00e9t\\u00E9 \\x41\\\\B\\tC \\q\"\n"
                    "description: 'It''s a ''quoted'' summary'\n"
                    "author: Jane Doe # the editor\n"
                    "lang: [\"fr\", en]\n"
                    "---\n\nBody.\n";
  trove_doc *d = NULL;
  CHECK(trove_extract_markdown(md, sizeof md - 1, &d, NULL) == 0 && d);
  if (!d)
    return;
  CHECK(strcmp(d->title, "Rock \"n\" Roll \xc3\xa9t\xc3\xa9 A\\B C \\q") == 0);
  CHECK(strcmp(d->excerpt, "It's a 'quoted' summary") == 0);
  CHECK(strcmp(d->byline, "Jane Doe") == 0);
  CHECK(strcmp(d->lang, "fr") == 0);
  trove_doc_destroy(d);
  /* a bad or cut-off escape stays as written, a surrogate becomes U+FFFD */
  const char odd[] = "---\ntitle: \"a \\u12 b \\ud800 c \\\"\n---\n\nBody.\n";
  CHECK(trove_extract_markdown(odd, sizeof odd - 1, &d, NULL) == 0 && d);
  if (d)
    CHECK(strcmp(d->title, "a \\u12 b \xef\xbf\xbd c \\") == 0);
  trove_doc_destroy(d);
}

static void markdown_without_front_matter_takes_h1_and_first_paragraph(void) {
  const char md[] = "Some preamble line.\n\n# The Real Title #\n\nBody text *here*.\n"
                    "---\nnot: front matter\n---\n";
  trove_doc *d = NULL;
  CHECK(trove_extract_markdown(md, sizeof md - 1, &d, NULL) == 0 && d);
  if (!d)
    return;
  check_shape(d);
  CHECK(strcmp(d->title, "The Real Title") == 0);
  CHECK(strcmp(d->excerpt, "Some preamble line.") == 0);
  CHECK(has(d, "Body text here."));
  trove_doc_destroy(d);
  const char unclosed[] = "---\ntitle: never closed\n\nJust text.\n";
  CHECK(trove_extract_markdown(unclosed, sizeof unclosed - 1, &d, NULL) == 0 && d);
  CHECK(d && d->title[0] == '\0' && has(d, "Just text."));
  trove_doc_destroy(d);
}

static void plain_text_paragraphs_and_line_ends(void) {
  size_t len = 0;
  char *txt = slurp("plain.txt", &len);
  trove_doc *d = NULL;
  CHECK(txt && trove_extract_text(txt, len, &d, NULL) == 0 && d);
  free(txt);
  if (!d)
    return;
  check_shape(d);
  CHECK(d->kind == TROVE_DOC_ARTICLE && d->n_blocks == 2 && d->title[0] == '\0');
  CHECK(strcmp(d->text, "First paragraph line one.\nLine two of the first paragraph.\n\n"
                        "Second paragraph after blank lines.\n\xEF\xBF\xBD Trailing.") == 0);
  CHECK(strcmp(d->excerpt, "First paragraph line one. Line two of the first paragraph.") == 0);
  trove_doc_destroy(d);
}

static void hostile_markdown_stays_linear_and_valid(void) {
  enum { N = 50000 };
  const char *units[] = {"[", "`", "<a", "*_", "](", "\\"};
  for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
    size_t ul = strlen(units[u]), n = 0;
    char *md = malloc(N * ul + 1);
    for (int i = 0; i < N; i++, n += ul)
      memcpy(md + n, units[u], ul);
    trove_doc *d = NULL;
    CHECK(trove_extract_markdown(md, n, &d, NULL) == 0 && d);
    if (d)
      check_shape(d);
    trove_doc_destroy(d);
    free(md);
  }
}

/* Random damage to real pages (bytes flipped, inserted, cut) must still
 * give a valid document or a documented error, never a crash. */
static void mutated_pages_extract_or_fail_cleanly(void) {
  const char *pages[] = {"doc.html", "blog.html", "news.html", "forum.html", "note.md"};
  unsigned long seed = check_seed("extract_test");
  srand((unsigned)seed);
  for (int round = 0; round < 300; round++) {
    size_t len = 0;
    const char *name = pages[round % 5];
    char *b = slurp(name, &len);
    if (!b)
      return;
    for (int k = 0; k < 1 + rand() % 40; k++) {
      size_t at = (size_t)rand() % len;
      if (rand() % 2)
        b[at] = (char)(rand() & 0xFF);
      else
        b[at] = "<>\"'&/=!-\0"[rand() % 10];
    }
    len = (size_t)rand() % (len + 1); /* truncate anywhere */
    trove_doc *d = NULL;
    int rc = strstr(name, ".md") ? trove_extract_markdown(b, len, &d, NULL)
                                 : trove_extract_html(b, len, NULL, &d, NULL);
    CHECK((rc == 0 && d) || (rc == TROVE_EUNSUPPORTED && !d));
    if (d)
      check_shape(d);
    trove_doc_destroy(d);
    free(b);
  }
}

/* ---- allocation failures ---------------------------------------------------------- */

typedef int (*extract_fn)(const char *, size_t, trove_doc **);

static int run_html(const char *s, size_t n, trove_doc **d) {
  return trove_extract_html(s, n, "https://shed.example/x", d, NULL);
}
static int run_md(const char *s, size_t n, trove_doc **d) {
  return trove_extract_markdown(s, n, d, NULL);
}
static int run_text(const char *s, size_t n, trove_doc **d) { return trove_extract_text(s, n, d, NULL); }

/* Fails allocation 0, 1, 2 ... until the call succeeds; every failure must
 * be a clean TROVE_ENOMEM with no document (ASan checks nothing leaks). */
static void fault_loop(const char *file, extract_fn fn) {
  size_t len = 0;
  char *s = slurp(file, &len);
  CHECK(s != NULL);
  if (!s)
    return;
  int failures = 0;
  for (long n = 0; n < 100000; n++) {
    trove_doc *d = (trove_doc *)s;
    trove_alloc_fail_after(n, false);
    int rc = fn(s, len, &d);
    long failed = trove_alloc_fail_after(-1, false);
    if (rc == 0) {
      CHECK(d != NULL);
      if (failed == 0) { /* no injected failure was hit: done */
        trove_doc_destroy(d);
        break;
      }
      trove_doc_destroy(d); /* a benign failure (sentence test) was absorbed */
      continue;
    }
    CHECK(rc == TROVE_ENOMEM && d == NULL);
    failures++;
  }
  CHECK(failures > 10);
  fprintf(stderr, "  %s: %d injected failures, each a clean TROVE_ENOMEM\n", file, failures);
  free(s);
}

static void allocation_failures_are_clean(void) {
  fault_loop("blog.html", run_html);
  fault_loop("links.html", run_html); /* the link hub path */
  fault_loop("note.md", run_md);
  fault_loop("plain.txt", run_text);
}

int main(int argc, char **argv) {
  if (argc > 1)
    corpus = argv[1];
  if (argc > 2) { /* the Python docs case alone, which needs the tree */
    pydocs = argv[2];
    if (access(pydocs, R_OK) != 0) {
      char why[512];
      snprintf(why, sizeof why, "%s is absent (scripts/deps.sh demo installs python3.11-doc)",
               pydocs);
      return check_skip("extract_test", why);
    }
    RUN(python_docs_indexes_are_hubs_and_pages_are_clean);
    return check_done("extract_test");
  }
  RUN(doc_page_keeps_body_code_table_and_drops_navigation);
  RUN(blog_keeps_post_and_drops_comments_sidebar_share);
  RUN(news_keeps_story_and_drops_ads_share_related_cookie);
  RUN(forum_keeps_every_post_and_drops_chrome);
  RUN(login_page_has_no_article_but_keeps_title);
  RUN(short_page_keeps_its_body_text);
  RUN(short_boilerplate_page_still_has_no_article);
  RUN(gallery_of_captions_has_no_article);
  RUN(link_list_is_a_hub_with_its_link_texts);
  RUN(article_pages_are_not_hubs_and_have_low_link_density);
  RUN(truncated_tag_soup_keeps_what_precedes_the_cut);
  RUN(title_suffixes_and_site_names_are_removed);
  RUN(invalid_utf8_and_nul_become_valid_text);
  RUN(declared_windows_1252_is_reencoded);
  RUN(empty_input_gives_no_article);
  RUN(huge_page_keeps_first_and_last_paragraph);
  RUN(deep_nesting_below_the_limit_extracts);
  RUN(nesting_past_the_limit_is_unsupported);
  RUN(too_large_input_is_erange);
  RUN(null_arguments_are_einval);
  RUN(markdown_front_matter_and_structure);
  RUN(markdown_front_matter_decodes_yaml_scalars);
  RUN(markdown_without_front_matter_takes_h1_and_first_paragraph);
  RUN(plain_text_paragraphs_and_line_ends);
  RUN(hostile_markdown_stays_linear_and_valid);
  RUN(mutated_pages_extract_or_fail_cleanly);
  RUN(allocation_failures_are_clean);
  return check_done("extract_test");
}
