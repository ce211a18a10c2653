/* `extends`: a service built on another one, from the same file or another, as compose-go does.
 *
 * `extends: base` or `extends: {service: base, file: other.yaml}`. The base service is resolved
 * first (it may extend too), then the extending service is merged over it with the same rules as
 * files (merge.c), `!reset` and `!override` included. Like compose-go (v2), everything is
 * inherited, depends_on, links and volumes_from too. Another file is read on demand, interpolated
 * with the same variables, and only the services needed are resolved in it; their relative paths
 * resolve against that file's directory, and its own extends.file paths too. A loop is an error
 * naming the chain. */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "compose/assemble-internal.h"
#include "compose/parse.h"

struct ext_file {
    const char *path;    /* absolute, or NULL for the document being loaded */
    const char *display; /* for messages */
    const char *dir;     /* base of relative paths and of extends.file */
    struct cnode *services;
    struct cnode **done; /* resolved services, by index in services */
};

struct ext_link {
    struct ext_file *f;
    size_t index;
};

struct ext_session {
    struct asm_scope *sc;
    struct cc_error *err;
    struct ext_file **files;
    size_t nfiles, files_cap;
    struct ext_link *chain;
    size_t nchain, chain_cap;
};

static struct ext_file *file_add(struct ext_session *s, const char *path, const char *display,
                                 const char *dir, struct cnode *services)
{
    struct ext_file *f = arena_alloc(s->sc->st->a, sizeof(*f));
    f->path = path;
    f->display = display;
    f->dir = dir;
    f->services = services;
    f->done =
        arena_alloc(s->sc->st->a, (services->npairs ? services->npairs : 1) * sizeof(*f->done));
    cc_grow((void **)&s->files, &s->files_cap, s->nfiles + 1, sizeof(*s->files));
    s->files[s->nfiles++] = f;
    return f;
}

/* Another file's services, read once per load of the extending document. */
static int file_open(struct ext_session *s, const struct cnode *at, const char *path,
                     struct ext_file **ret)
{
    for (size_t i = 0; i < s->nfiles; i++) {
        if (s->files[i]->path && strcmp(s->files[i]->path, path) == 0) {
            *ret = s->files[i];
            return 0;
        }
    }
    struct cnode *root;
    struct asm_scope sub = *s->sc;
    if (asm_read_file(&sub, path, path, &root, s->err) < 0) {
        if (s->err && s->err->kind == CC_ERR_NOT_FOUND) {
            cnode_error_at(s->err, at->file, at->line, at->col, NULL,
                           "cannot extend from '%s': no such file", at->value);
            cc_error_hint(s->err, "the path is relative to '%s'; fix it or create the file",
                          parse_path_clean(s->sc->st->a, path));
        }
        return -1;
    }
    struct cnode *services = cnode_get(root, "services");
    if (!services || services->kind != CNODE_MAPPING) {
        cnode_error_at(s->err, at->file, at->line, at->col, NULL,
                       "cannot extend from '%s': it defines no services", at->value);
        cc_error_hint(s->err, "check the file given in extends");
        return -1;
    }
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    *ret = file_add(s, path, path, arena_strdup(s->sc->st->a, dir), services);
    free(dir);
    return 0;
}

static int cycle_error(struct ext_session *s, struct ext_file *f, size_t index,
                       const struct cnode *at)
{
    struct buf b = BUF_INIT;
    size_t from = 0;
    while (s->chain[from].f != f || s->chain[from].index != index)
        from++;
    struct ext_file *home = s->chain[from].f;
    for (size_t i = from; i <= s->nchain; i++) {
        struct ext_file *lf = i < s->nchain ? s->chain[i].f : f;
        size_t li = i < s->nchain ? s->chain[i].index : index;
        buf_printf(&b, "%s%s%s%s", i > from ? " -> " : "", lf != home ? lf->display : "",
                   lf != home ? ":" : "", lf->services->pairs[li].key->value);
    }
    cnode_error_at(s->err, at->file, at->line, at->col, NULL, "extends cycle: %s", buf_str(&b));
    cc_error_hint(s->err, "a service cannot extend itself, directly or through others; break the "
                          "chain");
    buf_release(&b);
    return -1;
}

static int bad_extends(struct ext_session *s, const struct cnode *at, const char *name)
{
    cnode_error_at(s->err, at->file, at->line, at->col, NULL,
                   "invalid extends in service '%s': expected a service name or a mapping with "
                   "'service' and optionally 'file'",
                   name);
    cc_error_hint(s->err, "write `extends: base` or `extends: {service: base, file: common.yaml}`");
    return -1;
}

static int resolve(struct ext_session *s, struct ext_file *f, size_t index, struct cnode **ret);

/* Resolves the service named by ext (the extends value of service `name` in f) into *ret. */
static int resolve_base(struct ext_session *s, struct ext_file *f, const char *name,
                        struct cnode *ext, struct cnode **ret)
{
    const struct cnode *ref = ext, *file = NULL;
    if (ext->kind == CNODE_MAPPING) {
        ref = cnode_get(ext, "service");
        file = cnode_get(ext, "file");
        if (!ref)
            return bad_extends(s, ext, name);
        if (file && (file->kind != CNODE_SCALAR || cnode_is_null(file)))
            return bad_extends(s, file, name);
    }
    if (ref->kind != CNODE_SCALAR || cnode_is_null(ref))
        return bad_extends(s, ref, name);

    struct ext_file *bf = f;
    if (file && file_open(s, file, parse_path_join(s->sc->st->a, f->dir, file->value), &bf) < 0)
        return -1;
    ssize_t bi = -1;
    for (size_t i = 0; i < bf->services->npairs; i++)
        if (strcmp(bf->services->pairs[i].key->value, ref->value) == 0)
            bi = (ssize_t)i;
    if (bi < 0) {
        cnode_error_at(s->err, ref->file, ref->line, ref->col, NULL,
                       "cannot extend service '%s': no such service in '%s'", ref->value,
                       bf->display);
        cc_error_hint(s->err, "define '%s' under services in '%s', or fix the name", ref->value,
                      bf->display);
        return -1;
    }
    for (size_t i = 0; i < s->nchain; i++)
        if (s->chain[i].f == bf && s->chain[i].index == (size_t)bi)
            return cycle_error(s, bf, (size_t)bi, ref);
    struct cnode *base;
    if (resolve(s, bf, (size_t)bi, &base) < 0)
        return -1;
    /* What comes from another file has its paths resolved against that file's directory. */
    if (bf != f && !s->sc->st->opts->no_normalize)
        base = asm_resolve_service_paths(s->sc->st->a, base, bf->dir,
                                         asm_vars_get(s->sc->vars, "HOME"));
    *ret = base;
    return 0;
}

static int resolve(struct ext_session *s, struct ext_file *f, size_t index, struct cnode **ret)
{
    if (f->done[index]) {
        *ret = f->done[index];
        return 0;
    }
    struct cnode *svc = f->services->pairs[index].value;
    const char *name = f->services->pairs[index].key->value;
    struct cnode *ext = cnode_get(svc, "extends");
    if (!ext || svc->kind != CNODE_MAPPING) {
        *ret = f->done[index] = svc;
        return 0;
    }
    cc_grow((void **)&s->chain, &s->chain_cap, s->nchain + 1, sizeof(*s->chain));
    s->chain[s->nchain++] = (struct ext_link){f, index};
    struct cnode *base, *merged;
    int r = resolve_base(s, f, name, ext, &base);
    s->nchain--;
    if (r < 0)
        return -1;
    struct arena *a = s->sc->st->a;
    if (asm_merge_service(a, asm_clean(a, base), asm_mapping_without(a, svc, "extends"), &merged,
                          s->err) < 0)
        return -1;
    *ret = f->done[index] = merged;
    return 0;
}

int asm_extends(struct asm_scope *sc, const char *display, struct cnode *doc, struct cnode **ret,
                struct cc_error *reterr)
{
    struct cnode *services = cnode_get(doc, "services");
    *ret = doc;
    if (!services || services->kind != CNODE_MAPPING)
        return 0;
    bool any = false;
    for (size_t i = 0; i < services->npairs && !any; i++)
        any = cnode_get(services->pairs[i].value, "extends") != NULL;
    if (!any)
        return 0;

    struct ext_session s = {.sc = sc, .err = reterr};
    struct ext_file *f = file_add(&s, NULL, display, sc->dir, services);
    struct cnode_pair *pairs = xmalloc(services->npairs * sizeof(*pairs));
    int r = 0;
    for (size_t i = 0; i < services->npairs && r == 0; i++) {
        pairs[i].key = services->pairs[i].key;
        r = resolve(&s, f, i, &pairs[i].value);
    }
    if (r == 0) {
        struct cnode *m = asm_mapping_new(sc->st->a, services, pairs, services->npairs);
        *ret = asm_mapping_with(sc->st->a, doc, "services", m);
    }
    free(pairs);
    free(s.files);
    free(s.chain);
    return r;
}
