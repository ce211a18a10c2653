/* The project around the files, as docker compose v2 sets it up (compose-go's cli options):
 *
 * - variables: the process environment, then .env of the first guess at the project directory
 *   (or the --env-file values), filling only names the environment leaves unset; PWD is the
 *   working directory; COMPOSE_FILE, COMPOSE_PATH_SEPARATOR, COMPOSE_PROJECT_NAME and
 *   COMPOSE_PROFILES are read from them, .env included;
 * - files: -f values, else COMPOSE_FILE, else compose.yaml & co. found from the project
 *   directory (or the working directory) upwards, with the override file beside it;
 * - project directory: --project-directory, else the first file's directory; when that differs
 *   from the first guess, its .env is read too;
 * - name: -p, else COMPOSE_PROJECT_NAME, else the last `name:` of the files (interpolated), else
 *   the project directory's base name normalised; explicit names are checked, never changed.
 *   COMPOSE_PROJECT_NAME is then set to it for interpolation, as compose-go does;
 * - then each file: read, interpolated, extends, include, paths, and all merged in order. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "compose/assemble-internal.h"
#include "compose/parse.h"

extern char **environ;

/* ---- variables ---- */

void asm_vars_release(struct asm_vars *vars)
{
    free(vars->v);
    vars->v = NULL;
    vars->n = vars->cap = 0;
}

void asm_vars_set(struct asm_vars *vars, struct arena *a, const char *name, const char *value,
                  bool overwrite)
{
    for (size_t i = 0; i < vars->n; i++) {
        if (strcmp(vars->v[i].name, name) == 0) {
            if (overwrite)
                vars->v[i].value = arena_strdup(a, value);
            return;
        }
    }
    cc_grow((void **)&vars->v, &vars->cap, vars->n + 1, sizeof(*vars->v));
    vars->v[vars->n++] = (struct asm_var){arena_strdup(a, name), arena_strdup(a, value)};
}

const char *asm_vars_get(const struct asm_vars *vars, const char *name)
{
    for (size_t i = 0; i < vars->n; i++)
        if (strcmp(vars->v[i].name, name) == 0)
            return vars->v[i].value;
    return NULL;
}

void asm_vars_add_environ(struct asm_vars *vars, struct arena *a, const char *const *envp)
{
    for (size_t i = 0; envp && envp[i]; i++) {
        const char *eq = strchr(envp[i], '=');
        if (!eq || eq == envp[i])
            continue;
        char *name = xstrndup(envp[i], (size_t)(eq - envp[i]));
        asm_vars_set(vars, a, name, eq + 1, true);
        free(name);
    }
}

static bool vars_lookup(void *data, const char *name, const char **ret)
{
    const char *v = asm_vars_get(data, name);
    if (v)
        *ret = v;
    return v != NULL;
}

struct interp_env asm_vars_env(const struct asm_vars *vars)
{
    return (struct interp_env){vars_lookup, (void *)vars};
}

/* Reads a whole file into b; CC_ERR_NOT_FOUND when it does not exist. */
static int read_text(const char *path, const char *display, struct buf *b, struct cc_error *reterr)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        cc_error_set(reterr, e == ENOENT ? CC_ERR_NOT_FOUND : CC_ERR_IO, "cannot open '%s': %s",
                     display, strerror(e));
        return -1;
    }
    char chunk[16 * 1024];
    size_t n;
    int r = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b->len <= CNODE_MAX_INPUT)
        buf_add(b, chunk, n);
    if (ferror(f))
        r = cc_error_set(reterr, CC_ERR_IO, "cannot read '%s': %s", display, strerror(errno));
    else if (b->len > CNODE_MAX_INPUT)
        r = cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "'%s' is larger than %u MiB, refusing it",
                         display, CNODE_MAX_INPUT / (1024 * 1024));
    fclose(f);
    return r;
}

/* Env files interpolate with the compose grammar; names resolve through the parser's lookup. */
struct env_lookup {
    parse_lookup_cb fn;
    void *data;
};

static bool env_lookup_adapter(void *data, const char *name, const char **ret)
{
    const struct env_lookup *l = data;
    const char *v = l->fn(name, l->data);
    if (v)
        *ret = v;
    return v != NULL;
}

int asm_env_interpolate(struct arena *a, const char *text, parse_lookup_cb lookup,
                           void *lookup_data, const char **ret, struct cc_error *reterr)
{
    struct env_lookup l = {lookup, lookup_data};
    struct interp_env env = {env_lookup_adapter, &l};
    size_t len;
    return interp_string(a, &env, text, strlen(text), NULL, NULL, ret, &len, reterr);
}

struct env_files_lookup {
    const struct asm_vars *first, *then;
};

static const char *env_files_get(const char *name, void *data)
{
    const struct env_files_lookup *l = data;
    const char *v = asm_vars_get(l->first, name);
    return v ? v : asm_vars_get(l->then, name);
}

int asm_vars_read_env_files(struct asm_vars *vars, struct arena *a, const char *const *paths,
                            size_t n, struct cc_error *reterr)
{
    struct asm_vars read = {0};
    struct buf b = BUF_INIT;
    int r = -1;
    struct env_files_lookup l = {vars, &read};
    struct parse_env_opts po = {env_files_get, &l, asm_env_interpolate};
    for (size_t i = 0; i < n; i++) {
        struct parse_env_list list;
        buf_reset(&b);
        if (read_text(paths[i], paths[i], &b, reterr) < 0) {
            if (reterr && reterr->kind == CC_ERR_NOT_FOUND) {
                cc_error_set(reterr, CC_ERR_NOT_FOUND, "env file '%s' not found", paths[i]);
                cc_error_hint(reterr, "check the path given with --env-file or env_file");
            }
            goto out;
        }
        if (parse_env_file(a, paths[i], buf_str(&b), b.len, &po, &list, reterr) < 0)
            goto out;
        for (size_t j = 0; j < list.n; j++)
            asm_vars_set(&read, a, list.vars[j].key, list.vars[j].value, true);
    }
    for (size_t i = 0; i < read.n; i++)
        asm_vars_set(vars, a, read.v[i].name, read.v[i].value, false);
    r = 0;
out:
    buf_release(&b);
    asm_vars_release(&read);
    return r;
}

/* ---- files ---- */

static int read_raw(struct asm_state *st, const char *path, const char *display,
                    struct cnode_file **ret, struct cc_error *reterr)
{
    if (strcmp(path, "-") == 0) {
        if (st->opts->stdin_text)
            return cnode_load_buffer(st->a, "-", st->opts->stdin_text, strlen(st->opts->stdin_text),
                                     ret, reterr);
        return cnode_load_file(st->a, "-", ret, reterr);
    }
    struct buf b = BUF_INIT;
    int r = read_text(path, display, &b, reterr);
    if (r < 0 && reterr && reterr->kind == CC_ERR_NOT_FOUND)
        cc_error_hint(reterr, "check the path given with -f or COMPOSE_FILE");
    if (r == 0)
        r = cnode_load_buffer(st->a, display, buf_str(&b), b.len, ret, reterr);
    buf_release(&b);
    return r;
}

/* One document, ready for the per-document stages: a mapping, interpolated. */
/* Refuses a document (or the merged project) with more than CNODE_MAX_SERVICES services, at the
 * first service too many. */
static int check_services_count(const struct cnode *doc, struct cc_error *reterr)
{
    const struct cnode *services = cnode_get(doc, "services");
    if (!services || services->kind != CNODE_MAPPING || services->npairs <= CNODE_MAX_SERVICES)
        return 0;
    const struct cnode *at = services->pairs[CNODE_MAX_SERVICES].key;
    cnode_error_at(reterr, at->file, at->line, at->col, "services",
                   "more than %u services, refusing the project", CNODE_MAX_SERVICES);
    cc_error_hint(reterr, "split the application into several projects (-p NAME), or check that "
                          "the file was not generated wrong");
    return -1;
}

static int prepare_doc(struct asm_scope *sc, struct cnode *doc, struct cnode **ret,
                       struct cc_error *reterr)
{
    if (doc->kind != CNODE_MAPPING) {
        cnode_error_at(reterr, doc->file, doc->line, doc->col, NULL,
                       "a compose file must be a mapping of top-level keys, not a %s",
                       doc->kind == CNODE_SEQUENCE ? "sequence" : "scalar");
        cc_error_hint(reterr, "start the file with `services:`");
        return -1;
    }
    if (check_services_count(doc, reterr) < 0)
        return -1;
    if (sc->st->opts->no_interpolate) {
        *ret = doc;
        return 0;
    }
    struct interp_env env = asm_vars_env(sc->vars);
    return interp_tree(sc->st->a, &env, doc, sc->st->warns, ret, reterr);
}

int asm_read_file(struct asm_scope *sc, const char *path, const char *display, struct cnode **ret,
                  struct cc_error *reterr)
{
    struct cnode_file *cf;
    struct cnode *acc = NULL;
    if (read_raw(sc->st, path, display, &cf, reterr) < 0)
        return -1;
    for (size_t i = 0; i < cf->ndocs; i++) {
        struct cnode *doc;
        if (prepare_doc(sc, cf->docs[i], &doc, reterr) < 0 ||
            asm_merge_root(sc->st->a, acc, doc, &acc, reterr) < 0)
            return -1;
    }
    if (!acc) {
        cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "'%s' is empty", display);
        cc_error_where(reterr, display, 0, 0);
        return -1;
    }
    *ret = acc;
    return 0;
}

/* The stages of one parsed file; *ret is NULL for a file without documents. */
static int load_parsed(struct asm_scope *sc, struct cnode_file *cf, const char *path,
                       bool do_include, struct cnode **ret, struct cc_error *reterr)
{
    struct arena *a = sc->st->a;
    const struct compose_load_options *opts = sc->st->opts;
    struct cnode *acc = NULL;
    for (size_t i = 0; i < cf->ndocs; i++) {
        struct cnode *doc;
        if (prepare_doc(sc, cf->docs[i], &doc, reterr) < 0 ||
            asm_extends(sc, cf->name, doc, &doc, reterr) < 0 ||
            (do_include && asm_include(sc, path, doc, &doc, reterr) < 0) ||
            (!opts->no_normalize &&
             asm_resolve_paths(a, doc, sc->dir, asm_vars_get(sc->vars, "HOME"), &doc, reterr) <
                 0))
            return -1;
        /* The first document is taken as it is: merging it onto nothing would drop its !override
         * and !reset tags, which are meant for the files before this one. */
        if (!acc)
            acc = doc;
        else if (asm_merge_root(a, acc, doc, &acc, reterr) < 0)
            return -1;
    }
    *ret = acc;
    return 0;
}

int asm_load_file(struct asm_scope *sc, const char *path, const char *display, bool do_include,
                  struct cnode **ret, struct cc_error *reterr)
{
    struct cnode_file *cf;
    if (read_raw(sc->st, path, display, &cf, reterr) < 0 ||
        load_parsed(sc, cf, path, do_include, ret, reterr) < 0)
        return -1;
    if (!*ret) {
        cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "'%s' is empty", display);
        cc_error_where(reterr, display, 0, 0);
        cc_error_hint(reterr, "an included file must define services or other resources");
        return -1;
    }
    return 0;
}

/* ---- the project ---- */

static const char *dir_of(struct arena *a, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return ".";
    return slash == path ? "/" : arena_strndup(a, path, (size_t)(slash - path));
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void strv_set(struct arena *a, struct compose_strv *sv, const char *const *v, size_t n)
{
    sv->v = arena_alloc(a, (n ? n : 1) * sizeof(*sv->v));
    for (size_t i = 0; i < n; i++)
        sv->v[i] = arena_strdup(a, v[i]);
    sv->n = n;
}

/* COMPOSE_PROFILES: comma-separated, blanks around names ignored, empty names skipped. */
static void profiles_from_env(struct arena *a, const char *value, struct compose_strv *sv)
{
    if (!value)
        value = "";
    size_t cap = 1;
    for (const char *p = value; *p; p++)
        cap += *p == ',';
    sv->v = arena_alloc(a, cap * sizeof(*sv->v));
    sv->n = 0;
    for (const char *p = value;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t'))
            p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len)
            sv->v[sv->n++] = arena_strndup(a, p, len);
        if (!e)
            break;
        p = e + 1;
    }
}

/* The last top-level `name:` of the files, interpolated on its own; *ret NULL when none. */
static int name_from_files(struct asm_scope *sc, struct cnode_file **files, size_t n,
                           const char **ret, const struct cnode **ret_at, struct cc_error *reterr)
{
    *ret = NULL;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < files[i]->ndocs; j++) {
            const struct cnode *name = cnode_get(files[i]->docs[j], "name");
            if (!name || name->kind != CNODE_SCALAR || cnode_is_null(name))
                continue;
            const char *v = name->value;
            size_t len;
            struct interp_env env = asm_vars_env(sc->vars);
            struct interp_where where = {name->file, name->line, name->col,
                                         name->style == CNODE_PLAIN, "name"};
            if (!sc->st->opts->no_interpolate &&
                interp_string(sc->st->a, &env, name->value, name->len, &where, NULL, &v, &len,
                              reterr) < 0)
                return -1;
            *ret = v;
            *ret_at = name;
        }
    }
    return 0;
}

static int project_name(struct asm_scope *sc, struct cnode_file **files, size_t n, const char **ret,
                        struct cc_error *reterr)
{
    const struct compose_load_options *opts = sc->st->opts;
    const char *name = opts->project_name;
    const char *env = asm_vars_get(sc->vars, "COMPOSE_PROJECT_NAME");
    const struct cnode *at = NULL;
    if (!name && env && *env)
        name = env;
    if (!name && name_from_files(sc, files, n, &name, &at, reterr) < 0)
        return -1;
    if (name && *name) {
        if (parse_project_name_check(name, reterr) < 0) {
            if (at)
                cc_error_where(reterr, at->file, at->line, at->col);
            return -1;
        }
        *ret = arena_strdup(sc->st->a, name);
        return 0;
    }
    return parse_project_name_from_dir(sc->st->a, sc->dir, ret, reterr);
}

static void add_warnings(struct compose_diag *diag, const struct interp_warnings *w)
{
    for (size_t i = 0; diag && i < w->len; i++) {
        const struct interp_warning *x = &w->items[i];
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) {
            const struct interp_warning *y = &w->items[j];
            seen = strcmp(x->name, y->name) == 0 && x->line == y->line && x->col == y->col &&
                   (x->file == y->file || (x->file && y->file && !strcmp(x->file, y->file)));
        }
        if (seen)
            continue;
        struct cc_error e = CC_ERROR_INIT;
        cc_error_set(&e, CC_ERR_INVALID_CONFIG,
                     "The \"%s\" variable is not set. Defaulting to a blank string.", x->name);
        if (x->file)
            cc_error_where(&e, x->file, x->line, x->col);
        if (x->key_path)
            cc_error_key_path(&e, x->key_path);
        compose_diag_add_warning(diag, &e);
        cc_error_release(&e);
    }
}

/* The variables before the files are known: the process environment, PWD, then the --env-file
 * files, else .env in the first guess at the project directory (docker compose reads .env there
 * before it knows the files). *ret_cwd is the working directory, *ret_first_dir that guess, and
 * *ret_env_files the --env-file paths made absolute (all in a). */
static int read_first_env(struct arena *a, const struct compose_load_options *opts,
                          struct asm_vars *vars, const char **ret_cwd, const char **ret_first_dir,
                          const char ***ret_env_files, struct cc_error *reterr)
{
    const char *cwd;
    if (opts->working_dir && opts->working_dir[0] == '/') {
        cwd = parse_path_clean(a, opts->working_dir);
    } else {
        char *here = getcwd(NULL, 0);
        if (!here) {
            cc_error_set(reterr, CC_ERR_IO, "cannot find the current directory: %s",
                         strerror(errno));
            cc_error_hint(reterr, "run from an existing directory, or pass --project-directory");
            return -1;
        }
        cwd = parse_path_join(a, here, opts->working_dir ? opts->working_dir : ".");
        free(here);
    }
    asm_vars_add_environ(vars, a, opts->environ ? opts->environ : (const char *const *)environ);
    asm_vars_set(vars, a, "PWD", cwd, true);

    const char *first_dir = cwd;
    if (opts->project_directory)
        first_dir = parse_path_join(a, cwd, opts->project_directory);
    for (size_t i = 0; !opts->project_directory && i < opts->n_files; i++) {
        if (strcmp(opts->files[i], "-") != 0) {
            first_dir = dir_of(a, parse_path_join(a, cwd, opts->files[i]));
            break;
        }
    }
    const char **env_files = arena_alloc(a, (opts->n_env_files + 1) * sizeof(*env_files));
    for (size_t i = 0; i < opts->n_env_files; i++)
        env_files[i] = parse_path_join(a, cwd, opts->env_files[i]);
    if (opts->n_env_files) {
        if (asm_vars_read_env_files(vars, a, env_files, opts->n_env_files, reterr) < 0)
            return -1;
    } else {
        const char *dotenv = parse_path_join(a, first_dir, ".env");
        if (is_file(dotenv) && asm_vars_read_env_files(vars, a, &dotenv, 1, reterr) < 0)
            return -1;
    }
    *ret_cwd = cwd;
    *ret_first_dir = first_dir;
    *ret_env_files = env_files;
    return 0;
}

int compose_env_compose_vars(const struct compose_load_options *opts, char ***ret, size_t *n_ret,
                             struct cc_error *reterr)
{
    struct arena a;
    struct asm_vars vars = {0};
    const char *cwd, *first_dir, **env_files;
    arena_init(&a);
    int r = read_first_env(&a, opts, &vars, &cwd, &first_dir, &env_files, reterr);
    if (r == 0) {
        char **out = xcalloc(vars.n + 1, sizeof(*out));
        size_t n = 0;
        for (size_t i = 0; i < vars.n; i++)
            if (!strncmp(vars.v[i].name, "COMPOSE_", 8))
                out[n++] = xasprintf("%s=%s", vars.v[i].name, vars.v[i].value);
        *ret = out;
        *n_ret = n;
    }
    asm_vars_release(&vars);
    arena_release(&a);
    return r;
}

int compose_assemble(struct compose_load_ctx *ctx, struct asm_vars *vars, struct cnode **ret_root,
                     struct cc_error *reterr)
{
    const struct compose_load_options *opts = ctx->opts;
    struct compose_project *p = ctx->project;
    struct arena *a = &p->arena;
    struct interp_warnings warns = INTERP_WARNINGS_INIT;
    struct asm_state st = {a, opts, &warns};
    struct asm_scope sc = {&st, NULL, vars, NULL, 0};
    struct cnode_file **parsed = NULL;
    struct cnode *root = NULL;
    const char **files, **display;
    size_t nfiles;
    int r = -1;

    const char *cwd, *first_dir, **env_files;
    if (read_first_env(a, opts, vars, &cwd, &first_dir, &env_files, reterr) < 0)
        goto out;
    strv_set(a, &p->env_files, env_files, opts->n_env_files);

    if (opts->n_files) {
        nfiles = opts->n_files;
        files = arena_alloc(a, nfiles * sizeof(*files));
        display = arena_alloc(a, nfiles * sizeof(*display));
        for (size_t i = 0; i < nfiles; i++) {
            display[i] = opts->files[i];
            files[i] =
                strcmp(opts->files[i], "-") == 0 ? "-" : parse_path_join(a, cwd, opts->files[i]);
        }
    } else {
        const char *env = asm_vars_get(vars, "COMPOSE_FILE");
        if (env && *env) {
            if (parse_compose_file_env(a, env, asm_vars_get(vars, "COMPOSE_PATH_SEPARATOR"), cwd,
                                       &files, &nfiles, reterr) < 0)
                goto out;
        } else if (parse_find_compose_files(a, first_dir, &files, &nfiles, reterr) < 0) {
            goto out;
        }
        display = files;
    }

    sc.dir = opts->project_directory ? first_dir : cwd;
    for (size_t i = 0; !opts->project_directory && i < nfiles; i++) {
        if (strcmp(files[i], "-") != 0) {
            sc.dir = dir_of(a, files[i]);
            break;
        }
    }
    if (!opts->n_env_files && strcmp(sc.dir, first_dir) != 0) {
        const char *dotenv = parse_path_join(a, sc.dir, ".env");
        if (is_file(dotenv) && asm_vars_read_env_files(vars, a, &dotenv, 1, reterr) < 0)
            goto out;
    }

    if (opts->n_profiles)
        strv_set(a, &p->profiles, opts->profiles, opts->n_profiles);
    else
        profiles_from_env(a, asm_vars_get(vars, "COMPOSE_PROFILES"), &p->profiles);

    parsed = xcalloc(nfiles, sizeof(*parsed));
    for (size_t i = 0; i < nfiles; i++)
        if (read_raw(&st, files[i], display[i], &parsed[i], reterr) < 0)
            goto out;
    if (project_name(&sc, parsed, nfiles, &p->name, reterr) < 0)
        goto out;
    asm_vars_set(vars, a, "COMPOSE_PROJECT_NAME", p->name, true);
    p->working_dir = sc.dir;
    strv_set(a, &p->config_files, files, nfiles);

    for (size_t i = 0; i < nfiles; i++) {
        struct cnode *tree;
        if (load_parsed(&sc, parsed[i], files[i], true, &tree, reterr) < 0)
            goto out;
        if (tree && (asm_merge_root(a, root, tree, &root, reterr) < 0 ||
                     check_services_count(root, reterr) < 0))
            goto out;
    }
    if (!root) {
        cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "empty compose file");
        cc_error_where(reterr, display[0], 0, 0);
        cc_error_hint(reterr, "define at least one service under `services:`");
        goto out;
    }
    ctx->env = asm_vars_env(vars);
    *ret_root = asm_unique(a, root);
    r = 0;
out:
    add_warnings(ctx->diag, &warns);
    interp_warnings_release(&warns);
    free(parsed);
    return r;
}
