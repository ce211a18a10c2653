/* `include`: other compose projects brought into this one, as compose-go does.
 *
 * Each entry is a path, or {path: one or a list, project_directory, env_file: one or a list}.
 * Paths and env files are relative to the including file's base directory; project_directory
 * defaults to the first path's directory, env_file to its .env when present. The included files
 * are loaded like -f files of a project of their own (merged in order, their own includes and
 * extends applied, paths resolved against project_directory), with the including project's
 * variables, the included env files filling only the names those leave unset. Their services,
 * networks, volumes, secrets and configs are added to the including document; one defined on both
 * sides is an error naming both files, unless both definitions are identical. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "compose/assemble-internal.h"
#include "compose/parse.h"

static const struct {
    const char *section, *what;
} imported[] = {
    {"services", "service"}, {"networks", "network"}, {"volumes", "volume"},
    {"secrets", "secret"},   {"configs", "config"},
};

static int bad_entry(const struct cnode *at, struct cc_error *reterr)
{
    cnode_error_at(reterr, at->file, at->line, at->col, "include",
                   "invalid include entry: expected a path or a mapping with 'path' and "
                   "optionally 'project_directory' and 'env_file'");
    cc_error_hint(reterr, "write `- other/compose.yaml` or `- path: other/compose.yaml`");
    return -1;
}

/* Appends the scalar or list of scalars n to *v as paths joined to dir. */
static int add_paths(struct arena *a, const struct cnode *n, const char *dir, const char ***v,
                     size_t *len, struct cc_error *reterr)
{
    size_t count = n->kind == CNODE_SEQUENCE ? n->nitems : 1;
    *v = arena_alloc(a, (count ? count : 1) * sizeof(**v));
    for (size_t i = 0; i < count; i++) {
        const struct cnode *item = n->kind == CNODE_SEQUENCE ? n->items[i] : n;
        if (item->kind != CNODE_SCALAR || cnode_is_null(item))
            return bad_entry(item, reterr);
        (*v)[i] = parse_path_join(a, dir, item->value);
    }
    *len = count;
    return 0;
}

static const char *dir_of(struct arena *a, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return ".";
    return slash == path ? "/" : arena_strndup(a, path, (size_t)(slash - path));
}

static int cycle_error(const struct asm_scope *sc, const char *self, const char *path,
                       const struct cnode *at, struct cc_error *reterr)
{
    struct buf b = BUF_INIT;
    size_t from = 0;
    while (from < sc->n_includes && strcmp(sc->includes[from], path) != 0)
        from++;
    for (size_t i = from; i < sc->n_includes; i++)
        buf_printf(&b, "'%s' -> ", sc->includes[i]);
    buf_printf(&b, "'%s' -> '%s'", self, path);
    cnode_error_at(reterr, at->file, at->line, at->col, "include", "include cycle: %s",
                   buf_str(&b));
    cc_error_hint(reterr, "a file cannot include itself, directly or through others");
    buf_release(&b);
    return -1;
}

/* Loads one include entry into *ret (the included project's merged tree). */
static int load_entry(struct asm_scope *sc, const char *self, const struct cnode *entry,
                      struct cnode **ret, struct cc_error *reterr)
{
    struct arena *a = sc->st->a;
    const struct cnode *path = entry, *pdir = NULL, *env = NULL;
    if (entry->kind == CNODE_MAPPING) {
        path = cnode_get(entry, "path");
        pdir = cnode_get(entry, "project_directory");
        env = cnode_get(entry, "env_file");
        if (!path || (pdir && pdir->kind != CNODE_SCALAR))
            return bad_entry(entry, reterr);
    }
    const char **paths, **envs = NULL;
    size_t npaths, nenvs = 0;
    if (add_paths(a, path, sc->dir, &paths, &npaths, reterr) < 0)
        return -1;
    if (npaths == 0)
        return bad_entry(path, reterr);
    if (env && !cnode_is_null(env) && add_paths(a, env, sc->dir, &envs, &nenvs, reterr) < 0)
        return -1;
    const char *dir = pdir && !cnode_is_null(pdir) ? parse_path_join(a, sc->dir, pdir->value)
                                                   : dir_of(a, paths[0]);
    if (nenvs == 0) {
        const char *dotenv = parse_path_join(a, dir, ".env");
        struct stat st;
        if (stat(dotenv, &st) == 0 && S_ISREG(st.st_mode)) {
            envs = arena_alloc(a, sizeof(*envs));
            envs[0] = dotenv;
            nenvs = 1;
        }
    }
    for (size_t i = 0; i < npaths; i++) {
        bool loop = strcmp(paths[i], self) == 0;
        for (size_t j = 0; j < sc->n_includes && !loop; j++)
            loop = strcmp(sc->includes[j], paths[i]) == 0;
        if (loop)
            return cycle_error(sc, self, paths[i], entry, reterr);
    }

    struct asm_vars vars = {0};
    const char **chain = xmalloc((sc->n_includes + 1) * sizeof(*chain));
    int r = -1;
    for (size_t i = 0; i < sc->vars->n; i++)
        asm_vars_set(&vars, a, sc->vars->v[i].name, sc->vars->v[i].value, true);
    if (asm_vars_read_env_files(&vars, a, envs, nenvs, reterr) < 0) {
        cc_error_where(reterr, entry->file, entry->line, entry->col);
        goto out;
    }
    if (sc->n_includes)
        memcpy(chain, sc->includes, sc->n_includes * sizeof(*chain));
    chain[sc->n_includes] = self;
    struct asm_scope sub = {sc->st, dir, &vars, chain, sc->n_includes + 1};
    struct cnode *acc = NULL;
    for (size_t i = 0; i < npaths; i++) {
        struct cnode *tree;
        if (asm_load_file(&sub, paths[i], paths[i], true, &tree, reterr) < 0 ||
            asm_merge_root(a, acc, tree, &acc, reterr) < 0)
            goto out;
    }
    *ret = acc;
    r = 0;
out:
    free(chain);
    asm_vars_release(&vars);
    return r;
}

/* Adds the resources of the included tree inc to doc. */
static int import(struct arena *a, struct cnode *doc, const struct cnode *inc, struct cnode **ret,
                  struct cc_error *reterr)
{
    for (size_t s = 0; s < CC_ARRAY_LEN(imported); s++) {
        struct cnode *from = cnode_get(inc, imported[s].section);
        if (!from || from->kind != CNODE_MAPPING)
            continue;
        struct cnode *to = cnode_get(doc, imported[s].section);
        if (!to || to->kind != CNODE_MAPPING)
            to = asm_mapping_new(a, from, NULL, 0);
        for (size_t i = 0; i < from->npairs; i++) {
            const char *name = from->pairs[i].key->value;
            struct cnode *mine = cnode_get(to, name);
            if (!mine) {
                to = asm_mapping_with(a, to, name, from->pairs[i].value);
                continue;
            }
            if (asm_node_equal(mine, from->pairs[i].value))
                continue;
            const struct cnode *k = NULL;
            for (size_t j = 0; j < to->npairs && !k; j++)
                if (strcmp(to->pairs[j].key->value, name) == 0)
                    k = to->pairs[j].key;
            char *key_path = xasprintf("%s.%s", imported[s].section, name);
            cnode_error_at(reterr, k->file, k->line, k->col, key_path,
                           "%s '%s' is defined in both '%s' and included '%s'", imported[s].what,
                           name, k->file, from->pairs[i].key->file);
            cc_error_hint(reterr,
                          "rename one of them, or remove one; to change an included %s, "
                          "override it in a file given with -f",
                          imported[s].what);
            free(key_path);
            return -1;
        }
        doc = asm_mapping_with(a, doc, imported[s].section, to);
    }
    *ret = doc;
    return 0;
}

int asm_include(struct asm_scope *sc, const char *path, struct cnode *doc, struct cnode **ret,
                struct cc_error *reterr)
{
    struct cnode *inc = cnode_get(doc, "include");
    *ret = doc;
    if (!inc || cnode_is_null(inc))
        return 0;
    if (inc->kind != CNODE_SEQUENCE) {
        cnode_error_at(reterr, inc->file, inc->line, inc->col, "include",
                       "include must be a list of files");
        cc_error_hint(reterr, "write each included file as a list item: `- other/compose.yaml`");
        return -1;
    }
    doc = asm_mapping_without(sc->st->a, doc, "include");
    for (size_t i = 0; i < inc->nitems; i++) {
        struct cnode *tree;
        if (load_entry(sc, path, inc->items[i], &tree, reterr) < 0 ||
            import(sc->st->a, doc, tree, &doc, reterr) < 0)
            return -1;
    }
    *ret = doc;
    return 0;
}
