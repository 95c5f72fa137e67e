/* sources_test_hooks.h: what the sources module offers tests only, kept
 * out of sources.h so no caller can use it by accident. Included by
 * fs_walk.c, which implements it, and by tests. */
#ifndef TROVE_SOURCES_TEST_HOOKS_H
#define TROVE_SOURCES_TEST_HOOKS_H

/* From now on, opening a directory or stat-ing an entry whose last path
 * component is `name` fails with EACCES, as it would for a user without
 * permission (the tests run as root, which permissions do not stop). NULL
 * turns it off. Not thread-safe against walks in progress. */
void trove_fs_test_fail_path(const char *name);

#endif /* TROVE_SOURCES_TEST_HOOKS_H */
