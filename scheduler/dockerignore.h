/* .dockerignore patterns, read and matched as docker does (moby's patternmatcher and the
 * dockerignore reader): `*` (not across '/'), `?`, `**` (any number of directories), `[...]`
 * classes with ranges and `^` negation, `\` escapes, `!` exceptions where the last matching line
 * wins, `#` comment lines, blank lines, patterns cleaned as paths with a leading `/` dropped.
 * A pattern that matches a directory matches everything under it.
 *
 * Paths given to the matcher are relative to the build context, '/'-separated and clean
 * ("a/b", never "./a" or "a/"). */
#ifndef CC_SCHEDULER_DOCKERIGNORE_H
#define CC_SCHEDULER_DOCKERIGNORE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct dockerignore;

/* An empty pattern list (matches nothing). new: dockerignore_free() it. */
struct dockerignore *dockerignore_new(void);
void dockerignore_free(struct dockerignore *di);

/* Reads the text of a .dockerignore file (need not be NUL-terminated) and appends its patterns.
 * file names the text in errors. Fails (CC_ERR_INVALID_CONFIG, file:line set) on a malformed
 * pattern (an unclosed '[', a trailing '\', a lone '!'); di is then unchanged. */
int dockerignore_parse(struct dockerignore *di, const char *file, const char *text, size_t len,
                       struct cc_error *reterr);

/* Appends one pattern as a line of the file would give it ("!keep/x.md" for an exception). */
int dockerignore_add(struct dockerignore *di, const char *pattern, struct cc_error *reterr);

/* True when path is excluded: the last pattern matching path or one of its parent directories
 * decides (moby's MatchesOrParentMatches). */
bool dockerignore_excludes(const struct dockerignore *di, const char *path);

/* For an excluded directory: true when an exception could re-include something under it (an
 * exception pattern starting with "dir/"), so the walk must still look inside; docker's rule. */
bool dockerignore_must_descend(const struct dockerignore *di, const char *dir);

size_t dockerignore_count(const struct dockerignore *di);

#endif
