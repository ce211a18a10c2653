/* The positioned YAML tree: the first stage of the compose loader (internal to compose/).
 *
 * A compose file is read with libyaml's event parser into struct cnode trees that remember, for
 * every node, the file, line and column where it starts, its tag and, for scalars, the quoting
 * style. Anchors and aliases are resolved (an alias *is* the anchored node: the tree is a DAG and
 * later stages only read it), merge keys `<<` are applied, and hostile input is refused early:
 * alias bombs, deep nesting and oversized files.
 *
 * Everything a load returns lives in the caller's struct arena and is *borrowed* from it: nothing
 * is freed on its own, arena_release() frees it all. Nodes are read-only after load; passes that
 * change values (interpolation, merging) build new nodes in an arena. */
#ifndef CC_COMPOSE_NODE_H
#define CC_COMPOSE_NODE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"

/* Files larger than this are refused before parsing. The biggest real compose files are a few
 * hundred KiB; 16 MiB leaves room for generated ones while bounding what a mistaken `-f
 * /dev/zero` or a hostile file can make us allocate. */
#define CNODE_MAX_INPUT (16u * 1024 * 1024)
/* Deepest nesting of mappings and sequences, counted through aliases. Compose files nest about
 * eight levels; the bound keeps every recursive pass over the tree safe on the C stack. */
#define CNODE_MAX_DEPTH 128
/* Most nodes one document may stand for once aliases are expanded. An alias costs the size of
 * what it refers to, so a "billion laughs" document is refused as soon as its expanded size
 * passes this, without ever being expanded. A million nodes is a thousand times a big real file. */
#define CNODE_MAX_NODES (1000u * 1000)
/* Most services a project may have, in one file and once every file is merged. The biggest real
 * projects have a few hundred; the bound keeps the passes over services that go as deep as a
 * chain of them (extends, dependency cycles) safe on the C stack, and the loader quick. */
#define CNODE_MAX_SERVICES 10000u

enum cnode_kind {
    CNODE_SCALAR,
    CNODE_MAPPING,
    CNODE_SEQUENCE,
};

/* How a scalar was written. Only plain scalars resolve to null, booleans and numbers. */
enum cnode_style {
    CNODE_PLAIN,
    CNODE_SINGLE_QUOTED,
    CNODE_DOUBLE_QUOTED,
    CNODE_LITERAL, /* | */
    CNODE_FOLDED,  /* > */
};

struct cnode;

struct cnode_pair {
    struct cnode *key; /* always a scalar */
    struct cnode *value;
};

struct cnode {
    enum cnode_kind kind;
    enum cnode_style style; /* scalars; CNODE_PLAIN for collections */
    const char *tag;  /* as written after handle expansion ("!reset", "tag:yaml.org,2002:str"),
                         or NULL when the node has none */
    const char *file; /* interned: every node of one file shares the pointer */
    int line;         /* 1-based */
    int col;          /* 1-based, in characters as libyaml counts them */
    int end_line;     /* where the node ends: a plain scalar on one line has end_line == line */

    /* CNODE_SCALAR: the value, NUL-terminated; len excludes the NUL (values may hold NULs). */
    const char *value;
    size_t len;
    /* The value was produced by interpolation. It resolves as a string whatever it reads like:
     * compose-go types scalars before interpolating, and `${X}` is text. */
    bool interpolated;

    /* CNODE_MAPPING: pairs in file order, merge keys already applied (no `<<` pair remains). */
    struct cnode_pair *pairs;
    size_t npairs;

    /* CNODE_SEQUENCE */
    struct cnode **items;
    size_t nitems;

    /* Bookkeeping for the limits: nodes this one stands for when aliases are expanded, and the
     * depth of the deepest path below it (1 for a scalar). */
    size_t weight;
    unsigned height;
};

/* One loaded file: its documents in order. Documents with no content (an empty file, a trailing
 * `---`) are left out, as compose-go skips them; each remaining document is a layer that later
 * stages merge in order, as compose-go does since it read multi-document files. */
struct cnode_file {
    const char *name; /* interned display name; "-" for stdin */
    struct cnode **docs;
    size_t ndocs;
};

/* Loads the YAML in data[0..len) (need not be NUL-terminated) under the display name `name`.
 * On success *ret_file is set to a file *borrowed* from `a`. On failure returns -1 with reterr
 * filled (CC_ERR_INVALID_CONFIG, file:line:col of the offending token, message and hint); what
 * was allocated in `a` stays there until arena_release(). */
int cnode_load_buffer(struct arena *a, const char *name, const char *data, size_t len,
                      struct cnode_file **ret_file, struct cc_error *reterr);
/* Reads `path` ("-" reads standard input to its end) and loads it as cnode_load_buffer(). Fails
 * with CC_ERR_NOT_FOUND when the file does not exist, CC_ERR_IO when it cannot be read. */
int cnode_load_file(struct arena *a, const char *path, struct cnode_file **ret_file,
                    struct cc_error *reterr);

/* Scalar resolution, as compose-go's YAML library (go-yaml v3, YAML 1.2 core schema with 1.1
 * leftovers) reads a scalar. Only untagged plain scalars resolve to anything but a string;
 * `!!str` or quotes keep the text. */
enum cnode_type {
    CNODE_TYPE_STRING,
    CNODE_TYPE_NULL,  /* ~, null, Null, NULL, empty */
    CNODE_TYPE_BOOL,  /* true/True/TRUE, false/False/FALSE; yes/no/on/off stay strings */
    CNODE_TYPE_INT,   /* 12, -3, +4, 0x1F, 0o17, 0b101, 017 (1.1 octal), 1_000 */
    CNODE_TYPE_FLOAT, /* 1.5, 1e3, .5, .inf, -.Inf, .nan; integers beyond 64 bits */
    CNODE_TYPE_OTHER, /* not a scalar */
};

struct cnode_scalar {
    enum cnode_type type;
    bool b;
    int64_t i;
    double f;
};

/* Resolves a node's type and, for booleans and numbers, its value. Never fails. */
struct cnode_scalar cnode_resolve(const struct cnode *n);
bool cnode_is_null(const struct cnode *n);

/* A boolean as compose-go's typed fields accept it (privileged, read_only, external...):
 * true/false in any case, and the YAML 1.1 words y/yes/on, n/no/off in any case, for which
 * *ret_legacy is set so the caller can warn that YAML 1.2 readers see strings. Returns -1 (and
 * writes nothing) for anything else. */
int cnode_parse_bool(const char *s, bool *ret_value, bool *ret_legacy);

/* The value of `key` in mapping m, *borrowed*; NULL when m is not a mapping or lacks the key. */
struct cnode *cnode_get(const struct cnode *m, const char *key);
/* Whether n carries exactly the tag `tag` ("!reset", "!override"). */
bool cnode_has_tag(const struct cnode *n, const char *tag);

/* Key paths for messages: "services.web.ports[0]". A caller walking a tree pushes a segment per
 * level and pops it on the way back; the stack never exceeds CNODE_MAX_DEPTH because trees don't.
 */
struct cnode_path {
    struct {
        const char *key; /* borrowed; NULL for a sequence index */
        size_t index;
    } seg[CNODE_MAX_DEPTH + 1];
    size_t len;
};

#define CNODE_PATH_INIT                                                                            \
    {                                                                                              \
        .len = 0                                                                                   \
    }

void cnode_path_push_key(struct cnode_path *p, const char *key);
void cnode_path_push_index(struct cnode_path *p, size_t index);
void cnode_path_pop(struct cnode_path *p);
/* The path as a *new* string ("" for the root). */
char *cnode_path_str(const struct cnode_path *p);

/* Sets reterr (may be NULL) to CC_ERR_INVALID_CONFIG at file:line:col with key_path (may be
 * NULL) and a printf message; returns -1. Every positioned error of compose/ goes through here. */
int cnode_verror_at(struct cc_error *reterr, const char *file, int line, int col,
                    const char *key_path, const char *fmt, va_list ap) CC_PRINTF(6, 0);
int cnode_error_at(struct cc_error *reterr, const char *file, int line, int col,
                   const char *key_path, const char *fmt, ...) CC_PRINTF(6, 7);

/* Sets reterr to CC_ERR_INVALID_CONFIG at n's position with key path `path` (may be NULL) and a
 * printf message; returns -1. The hint is left to the caller (cc_error_hint()). */
int cnode_error(struct cc_error *reterr, const struct cnode *n, const struct cnode_path *path,
                const char *fmt, ...) CC_PRINTF(4, 5);

#endif
