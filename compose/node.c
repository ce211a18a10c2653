/* Loading YAML into positioned cnode trees with libyaml's event parser.
 *
 * Events are folded into nodes on a stack of open collections. Aliases resolve to the anchored
 * node itself, so the result is a DAG; every node records its expanded size (weight) and nesting
 * height, which lets an alias be priced before it is accepted: alias bombs and deep nesting are
 * refused at the alias that would cross the limit, never expanded. Merge keys and duplicate keys
 * are handled when a mapping closes, by sorting its keys, so hostile mappings stay O(n log n). */
#include "compose/node.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "common/buf.h"

#define TAG_MERGE "tag:yaml.org,2002:merge"

struct frame {
    struct cnode *node;
    struct cnode **kids; /* heap; for mappings keys and values alternate */
    size_t nkids, cap;
};

struct anchor {
    const char *name; /* arena */
    struct cnode *node;
};

struct loader {
    struct arena *a;
    const char *file;
    const char *data;
    size_t len;
    struct cc_error *err;

    struct frame stack[CNODE_MAX_DEPTH];
    size_t depth;

    /* Anchors of the current document: open addressing, power-of-two capacity. */
    struct anchor *anchors;
    size_t nanchors, anchors_cap;

    size_t expanded; /* nodes the current document stands for, aliases expanded */
    struct cnode *root;

    struct cnode **docs; /* heap while loading */
    size_t ndocs, docs_cap;
};

/* Every loader error is about this file. */
#define error_at(l, line, col, ...)                                                                \
    cnode_error_at((l)->err, (l)->file, line, col, NULL, __VA_ARGS__)

/* ---- anchors ---- */

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static struct anchor *anchor_slot(struct anchor *tab, size_t cap, const char *name)
{
    size_t i = hash_str(name) & (cap - 1);
    while (tab[i].name && strcmp(tab[i].name, name) != 0)
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

static void anchor_set(struct loader *l, const char *name, struct cnode *node)
{
    if ((l->nanchors + 1) * 2 > l->anchors_cap) {
        size_t cap = l->anchors_cap ? l->anchors_cap * 2 : 16;
        struct anchor *tab = xcalloc(cap, sizeof(*tab));
        for (size_t i = 0; i < l->anchors_cap; i++)
            if (l->anchors[i].name)
                *anchor_slot(tab, cap, l->anchors[i].name) = l->anchors[i];
        free(l->anchors);
        l->anchors = tab;
        l->anchors_cap = cap;
    }
    struct anchor *slot = anchor_slot(l->anchors, l->anchors_cap, name);
    /* A redefined anchor names the new node from here on, as YAML says. */
    if (!slot->name) {
        slot->name = arena_strdup(l->a, name);
        l->nanchors++;
    }
    slot->node = node;
}

static struct cnode *anchor_get(struct loader *l, const char *name)
{
    if (!l->anchors_cap)
        return NULL;
    return anchor_slot(l->anchors, l->anchors_cap, name)->node;
}

/* ---- building ---- */

static struct cnode *node_new(struct loader *l, enum cnode_kind kind, const yaml_mark_t *mark,
                              const yaml_char_t *tag)
{
    struct cnode *n = arena_alloc(l->a, sizeof(*n));
    n->kind = kind;
    n->style = CNODE_PLAIN;
    n->tag = tag ? arena_strdup(l->a, (const char *)tag) : NULL;
    n->file = l->file;
    n->line = (int)mark->line + 1;
    n->col = (int)mark->column + 1;
    n->weight = 1;
    return n;
}

static int count_nodes(struct loader *l, const struct cnode *at, size_t n)
{
    l->expanded += n;
    if (l->expanded > CNODE_MAX_NODES) {
        error_at(l, at->line, at->col,
                 "document expands to more than %u nodes through aliases, refusing it",
                 CNODE_MAX_NODES);
        cc_error_hint(l->err, "aliases repeat what their anchor holds; nested aliases multiply "
                              "(an 'alias bomb'): write the values out or use fewer levels");
        return -1;
    }
    return 0;
}

static int check_depth(struct loader *l, int line, int col, size_t depth)
{
    if (depth <= CNODE_MAX_DEPTH)
        return 0;
    error_at(l, line, col, "nesting deeper than %d levels", CNODE_MAX_DEPTH);
    cc_error_hint(l->err, "compose files nest a few levels; check for runaway brackets or "
                          "aliases that nest into themselves");
    return -1;
}

/* Hands a finished node to the open collection, or makes it the document's root. */
static int attach(struct loader *l, struct cnode *n, const struct cnode *at)
{
    if (l->depth == 0) {
        l->root = n;
        return 0;
    }
    struct frame *f = &l->stack[l->depth - 1];
    if (f->node->kind == CNODE_MAPPING && f->nkids % 2 == 0 && n->kind != CNODE_SCALAR) {
        error_at(l, at->line, at->col, "a mapping key must be a string, not a %s",
                 n->kind == CNODE_MAPPING ? "mapping" : "sequence");
        cc_error_hint(l->err, "compose keys are names; remove the '?' or brackets around the key");
        return -1;
    }
    cc_grow((void **)&f->kids, &f->cap, f->nkids + 1, sizeof(*f->kids));
    f->kids[f->nkids++] = n;
    f->node->weight += n->weight;
    if (n->height + 1 > f->node->height)
        f->node->height = n->height + 1;
    return 0;
}

static bool is_merge_key(const struct cnode *k)
{
    if (k->tag)
        return strcmp(k->tag, TAG_MERGE) == 0;
    return k->style == CNODE_PLAIN && k->len == 2 && memcmp(k->value, "<<", 2) == 0;
}

/* A key competing for a place in the closing mapping. rank 0 is written in the mapping itself;
 * rank r > 0 comes from the r-th merged mapping, and lower ranks win. */
struct cand {
    struct cnode *key, *value;
    size_t rank;
    size_t order; /* where the pair is written out */
    bool keep;
};

static int cmp_key(const struct cnode *a, const struct cnode *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->value, b->value, n);
    if (c)
        return c;
    return (a->len > b->len) - (a->len < b->len);
}

static int cmp_cand(const void *pa, const void *pb)
{
    const struct cand *a = pa, *b = pb;
    int c = cmp_key(a->key, b->key);
    if (c)
        return c;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    return (a->order > b->order) - (a->order < b->order);
}

static bool pos_before(const struct cnode *a, const struct cnode *b)
{
    return a->line < b->line || (a->line == b->line && a->col < b->col);
}

/* Adds the pairs merged by `<<: v`; errors point at the `<<` key k, since v is often an alias
 * whose own position is far away at its anchor. */
static int merge_source(struct loader *l, const struct cnode *k, struct cnode *v,
                        struct cand **cands, size_t *ncand, size_t *cap, size_t *rank)
{
    struct cnode *one[1] = {v};
    struct cnode **srcs = one;
    size_t nsrc = 1;
    if (v->kind == CNODE_SEQUENCE) {
        srcs = v->items;
        nsrc = v->nitems;
    }
    for (size_t s = 0; s < nsrc; s++) {
        struct cnode *m = srcs[s];
        if (m->kind != CNODE_MAPPING) {
            error_at(l, k->line, k->col, "merge key '<<' needs a mapping or a list of mappings");
            cc_error_hint(l->err, "write '<<: *anchor' where the anchor names a mapping");
            return -1;
        }
        (*rank)++;
        for (size_t i = 0; i < m->npairs; i++) {
            cc_grow((void **)cands, cap, *ncand + 1, sizeof(**cands));
            (*cands)[*ncand] =
                (struct cand){m->pairs[i].key, m->pairs[i].value, *rank, *ncand, false};
            (*ncand)++;
        }
    }
    return 0;
}

static int cmp_order(const void *pa, const void *pb)
{
    const struct cand *a = pa, *b = pb;
    return (a->order > b->order) - (a->order < b->order);
}

/* Turns the alternating keys and values of a closed mapping into pairs: merge keys are expanded
 * in place (keys written in the mapping win, then earlier merged mappings), and a key written
 * twice is an error reported at the earliest repetition. */
static int finish_mapping(struct loader *l, struct frame *f)
{
    struct cand *cands = NULL;
    size_t ncand = 0, cap = 0, rank = 0;
    int r = -1;

    for (size_t i = 0; i + 1 < f->nkids; i += 2) {
        struct cnode *k = f->kids[i], *v = f->kids[i + 1];
        if (is_merge_key(k)) {
            if (merge_source(l, k, v, &cands, &ncand, &cap, &rank) < 0)
                goto out;
            continue;
        }
        cc_grow((void **)&cands, &cap, ncand + 1, sizeof(*cands));
        cands[ncand] = (struct cand){k, v, 0, ncand, false};
        ncand++;
    }

    if (ncand)
        qsort(cands, ncand, sizeof(*cands), cmp_cand);
    const struct cand *dup = NULL, *first = NULL;
    for (size_t i = 0; i < ncand;) {
        size_t j = i + 1;
        while (j < ncand && cmp_key(cands[i].key, cands[j].key) == 0)
            j++;
        cands[i].keep = true;
        /* Within a group rank-0 entries come first, in file order. */
        if (j > i + 1 && cands[i + 1].rank == 0 &&
            (!dup || pos_before(cands[i + 1].key, dup->key))) {
            dup = &cands[i + 1];
            first = &cands[i];
        }
        i = j;
    }
    if (dup) {
        error_at(l, dup->key->line, dup->key->col, "mapping key \"%s\" already defined at line %d",
                 dup->key->value, first->key->line);
        cc_error_hint(l->err, "remove one of the two, or merge their contents under one key");
        goto out;
    }

    /* Put the winners back in written order. */
    size_t w = 0;
    for (size_t i = 0; i < ncand; i++)
        if (cands[i].keep)
            cands[w++] = cands[i];
    if (w)
        qsort(cands, w, sizeof(*cands), cmp_order);
    struct cnode_pair *pairs = arena_alloc(l->a, (w ? w : 1) * sizeof(*pairs));
    for (size_t i = 0; i < w; i++)
        pairs[i] = (struct cnode_pair){cands[i].key, cands[i].value};
    f->node->pairs = pairs;
    f->node->npairs = w;
    r = 0;
out:
    free(cands);
    return r;
}

static int close_collection(struct loader *l, const yaml_event_t *ev)
{
    struct frame *f = &l->stack[l->depth - 1];
    struct cnode *n = f->node;
    int r = 0;
    n->end_line = (int)ev->end_mark.line + 1;
    if (n->kind == CNODE_MAPPING) {
        r = finish_mapping(l, f);
    } else {
        n->items = arena_alloc(l->a, (f->nkids ? f->nkids : 1) * sizeof(*n->items));
        if (f->nkids)
            memcpy(n->items, f->kids, f->nkids * sizeof(*n->items));
        n->nitems = f->nkids;
    }
    free(f->kids);
    memset(f, 0, sizeof(*f));
    l->depth--;
    if (r < 0)
        return r;
    return attach(l, n, n);
}

static int open_collection(struct loader *l, enum cnode_kind kind, const yaml_event_t *ev,
                           const yaml_char_t *anchor, const yaml_char_t *tag)
{
    struct cnode *n = node_new(l, kind, &ev->start_mark, tag);
    n->height = 1;
    if (check_depth(l, n->line, n->col, l->depth + 1) < 0 || count_nodes(l, n, 1) < 0)
        return -1;
    if (anchor)
        anchor_set(l, (const char *)anchor, n);
    l->stack[l->depth++] = (struct frame){n, NULL, 0, 0};
    return 0;
}

static int on_scalar(struct loader *l, const yaml_event_t *ev)
{
    struct cnode *n = node_new(l, CNODE_SCALAR, &ev->start_mark, ev->data.scalar.tag);
    switch (ev->data.scalar.style) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE:
        n->style = CNODE_SINGLE_QUOTED;
        break;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
        n->style = CNODE_DOUBLE_QUOTED;
        break;
    case YAML_LITERAL_SCALAR_STYLE:
        n->style = CNODE_LITERAL;
        break;
    case YAML_FOLDED_SCALAR_STYLE:
        n->style = CNODE_FOLDED;
        break;
    default:
        n->style = CNODE_PLAIN;
        break;
    }
    n->end_line = (int)ev->end_mark.line + 1;
    n->value = arena_strndup(l->a, (const char *)ev->data.scalar.value, ev->data.scalar.length);
    n->len = ev->data.scalar.length;
    if (count_nodes(l, n, 1) < 0)
        return -1;
    if (ev->data.scalar.anchor)
        anchor_set(l, (const char *)ev->data.scalar.anchor, n);
    return attach(l, n, n);
}

static int on_alias(struct loader *l, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    struct cnode *target = anchor_get(l, name);
    if (!target) {
        error_at(l, line, col, "unknown anchor '%s' referenced", name);
        cc_error_hint(l->err, "define it with '&%s' before this alias, in the same document", name);
        return -1;
    }
    for (size_t i = 0; i < l->depth; i++) {
        if (l->stack[i].node == target) {
            error_at(l, line, col, "anchor '%s' value contains itself", name);
            cc_error_hint(l->err, "an alias cannot refer to the collection it is written in");
            return -1;
        }
    }
    if (check_depth(l, line, col, l->depth + target->height) < 0)
        return -1;
    struct cnode at = {.line = line, .col = col};
    if (count_nodes(l, &at, target->weight) < 0)
        return -1;
    return attach(l, target, &at);
}

static void on_document_end(struct loader *l)
{
    struct cnode *r = l->root;
    /* An empty document parses as an untagged empty plain scalar. */
    bool empty = !r || (r->kind == CNODE_SCALAR && r->style == CNODE_PLAIN && r->len == 0 &&
                        !r->tag && l->expanded == 1);
    if (!empty) {
        cc_grow((void **)&l->docs, &l->docs_cap, l->ndocs + 1, sizeof(*l->docs));
        l->docs[l->ndocs++] = r;
    }
    l->root = NULL;
    free(l->anchors);
    l->anchors = NULL;
    l->nanchors = l->anchors_cap = 0;
    l->expanded = 0;
}

/* ---- libyaml errors ---- */

struct syntax_fix {
    const char *problem; /* libyaml's words, matched as a prefix */
    const char *context; /* NULL matches any */
    const char *message;
    const char *hint;
};

/* libyaml's problems in words that say what is wrong in a compose file, and what to do. */
static const struct syntax_fix syntax_fixes[] = {
    {"mapping values are not allowed", NULL, "unexpected ':' in a value",
     "quote the value if it contains ': ', or check the indentation of this line"},
    {"did not find expected key", NULL, "a line is not indented like the keys around it",
     "keys of one mapping start in the same column; check this line's indentation"},
    {"could not find expected ':'", NULL, "a key is missing its ':'",
     "write 'key: value', or quote the whole line if it is a value"},
    {"found unexpected end of stream", "while scanning a quoted scalar",
     "unterminated quoted string", "close the quote that starts at line %d, column %d"},
    {"found unexpected end of stream", NULL, "unexpected end of file",
     "close what was opened at line %d, column %d"},
    {"did not find expected ',' or ']'", NULL, "unterminated flow sequence '['",
     "close the '[' opened at line %d, column %d, or separate items with ','"},
    {"did not find expected ',' or '}'", NULL, "unterminated flow mapping '{'",
     "close the '{' opened at line %d, column %d, or separate entries with ','"},
    {"did not find expected '-' indicator", NULL, "a line is not indented like the list around it",
     "items of one list start with '-' in the same column"},
    {"block sequence entries are not allowed", NULL, "a list item '-' is not allowed here",
     "put the list on its own lines, indented under its key"},
    {"found a tab character", NULL, "a tab is used for indentation",
     "indent with spaces: YAML does not allow tabs there"},
    {"found unknown escape character", NULL, "unknown escape sequence in a double-quoted string",
     "write '\\\\' for a backslash, or use single quotes"},
    {"found undefined tag handle", NULL, "undefined tag handle",
     "use '!name' for a local tag, or declare the handle with %%TAG"},
    {"did not find expected node content", NULL, "a value is missing here",
     "write a value, or quote text that starts with a YAML indicator"},
};

static int syntax_error(struct loader *l, const yaml_parser_t *p)
{
    if (p->error == YAML_MEMORY_ERROR)
        return cc_error_set(l->err, CC_ERR_FAILED, "out of memory while parsing '%s'", l->file);

    int line, col;
    if (p->error == YAML_READER_ERROR) {
        /* Reader errors carry a byte offset, not a mark. */
        line = 1;
        col = 1;
        for (size_t i = 0; i < p->problem_offset && i < l->len; i++) {
            if (l->data[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        error_at(l, line, col, "%s", p->problem ? p->problem : "unreadable input");
        cc_error_hint(l->err, "compose files are UTF-8 text; check the file's encoding");
        return -1;
    }

    line = (int)p->problem_mark.line + 1;
    col = (int)p->problem_mark.column + 1;
    const char *problem = p->problem ? p->problem : "syntax error";
    int ctx_line = (int)p->context_mark.line + 1, ctx_col = (int)p->context_mark.column + 1;

    if (strncmp(problem, "found character that cannot start any token", 44) == 0) {
        size_t off = p->problem_mark.index;
        char c = off < l->len ? l->data[off] : '?';
        if (c == '\t') {
            error_at(l, line, col, "a tab cannot start a token");
            cc_error_hint(l->err, "indent with spaces: YAML does not allow tabs there");
        } else {
            error_at(l, line, col, "'%c' cannot start a value", c);
            cc_error_hint(l->err, "quote the value: '@' and '`' are reserved in YAML");
        }
        return -1;
    }
    for (size_t i = 0; i < CC_ARRAY_LEN(syntax_fixes); i++) {
        const struct syntax_fix *fx = &syntax_fixes[i];
        if (strncmp(problem, fx->problem, strlen(fx->problem)) != 0)
            continue;
        if (fx->context && (!p->context || strcmp(p->context, fx->context) != 0))
            continue;
        error_at(l, line, col, "%s", fx->message);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        cc_error_hint(l->err, fx->hint, ctx_line, ctx_col);
#pragma GCC diagnostic pop
        return -1;
    }
    if (p->context)
        error_at(l, line, col, "%s (%s at line %d)", problem, p->context, ctx_line);
    else
        error_at(l, line, col, "%s", problem);
    cc_error_hint(l->err, "check the YAML syntax at this position");
    return -1;
}

/* ---- entry points ---- */

int cnode_load_buffer(struct arena *a, const char *name, const char *data, size_t len,
                      struct cnode_file **ret_file, struct cc_error *reterr)
{
    struct loader l = {.a = a, .data = data, .len = len, .err = reterr};
    yaml_parser_t parser;
    bool parser_ok = false;
    int r = -1;

    l.file = arena_strdup(a, name);
    if (len > CNODE_MAX_INPUT) {
        cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "'%s' is larger than %u MiB, refusing it", name,
                     CNODE_MAX_INPUT / (1024 * 1024));
        cc_error_where(reterr, l.file, 0, 0);
        cc_error_hint(reterr, "compose files are small text files; check the path given");
        goto out;
    }
    if (!yaml_parser_initialize(&parser)) {
        cc_error_set(reterr, CC_ERR_FAILED, "cannot initialise the YAML parser");
        goto out;
    }
    parser_ok = true;
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);

    for (bool done = false; !done;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            syntax_error(&l, &parser);
            goto out;
        }
        int er = 0;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_END_EVENT:
            on_document_end(&l);
            break;
        case YAML_SCALAR_EVENT:
            er = on_scalar(&l, &ev);
            break;
        case YAML_ALIAS_EVENT:
            er = on_alias(&l, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
            er = open_collection(&l, CNODE_SEQUENCE, &ev, ev.data.sequence_start.anchor,
                                 ev.data.sequence_start.tag);
            break;
        case YAML_MAPPING_START_EVENT:
            er = open_collection(&l, CNODE_MAPPING, &ev, ev.data.mapping_start.anchor,
                                 ev.data.mapping_start.tag);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            er = close_collection(&l, &ev);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (er < 0)
            goto out;
    }

    struct cnode_file *f = arena_alloc(a, sizeof(*f));
    f->name = l.file;
    f->ndocs = l.ndocs;
    f->docs = arena_alloc(a, (l.ndocs ? l.ndocs : 1) * sizeof(*f->docs));
    if (l.ndocs)
        memcpy(f->docs, l.docs, l.ndocs * sizeof(*f->docs));
    *ret_file = f;
    r = 0;
out:
    while (l.depth > 0)
        free(l.stack[--l.depth].kids);
    free(l.anchors);
    free(l.docs);
    if (parser_ok)
        yaml_parser_delete(&parser);
    return r;
}

/* Reads all of fd, refusing more than CNODE_MAX_INPUT bytes. */
static int read_all(int fd, const char *path, struct buf *out, struct cc_error *reterr)
{
    char chunk[64 * 1024];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cc_error_set(reterr, CC_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
        if (n == 0)
            return 0;
        buf_add(out, chunk, (size_t)n);
        if (out->len > CNODE_MAX_INPUT) {
            cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "'%s' is larger than %u MiB, refusing it",
                         path, CNODE_MAX_INPUT / (1024 * 1024));
            cc_error_where(reterr, path, 0, 0);
            cc_error_hint(reterr, "compose files are small text files; check the path given");
            return -1;
        }
    }
}

int cnode_load_file(struct arena *a, const char *path, struct cnode_file **ret_file,
                    struct cc_error *reterr)
{
    struct buf content = BUF_INIT;
    int fd = -1;
    int r = -1;
    bool is_stdin = strcmp(path, "-") == 0;

    fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        cc_error_set(reterr, e == ENOENT ? CC_ERR_NOT_FOUND : CC_ERR_IO, "cannot open '%s': %s",
                     path, strerror(e));
        if (e == ENOENT)
            cc_error_hint(reterr,
                          "check the path given with -f, or run from the project directory");
        goto out;
    }
    if (read_all(fd, path, &content, reterr) < 0)
        goto out;
    r = cnode_load_buffer(a, path, buf_str(&content), content.len, ret_file, reterr);
out:
    if (fd >= 0 && !is_stdin)
        close(fd);
    buf_release(&content);
    return r;
}
