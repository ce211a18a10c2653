/* `ccompose cp`: files between a service's container (running or not) and the host, through the
 * engine's archive endpoints, with docker cp's rules for where things land:
 *
 *   SERVICE:SRC DEST   the tar stream of SRC, written under DEST on a worker thread (untar.c)
 *   SRC SERVICE:DEST   SRC walked into a tar stream while it is sent (build-context.c)
 *   SERVICE:SRC -      the tar stream itself on stdout;  - SERVICE:DEST  a tar stream from stdin
 *
 * Nothing is held whole in memory: downloads pause the transfer when the writer falls behind,
 * uploads make the stream as the engine takes it. To a service, every container of it gets the
 * copy (one with --index); from a service, its first container (or --index's). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/run.h"
#include "scheduler/build-context.h"

/* Go's os.FileMode bits in the engine's path stat. */
#define GO_MODE_DIR     (1ull << 31)
#define GO_MODE_SYMLINK (1ull << 27)

struct cp_cmd {
    struct cli_context *ctx;
    struct engine_client *c;
    bool archive, follow;
    /* One transfer at a time. */
    struct engine_request *req;
    bool req_done;
    struct cc_error req_err;
    struct sched_untar *untar;
    bool untar_done;
    struct cc_error untar_err;
    /* cp - SERVICE:DEST: stdin, non-blocking unless it is a file. */
    uv_poll_t in_poll;
    bool in_poll_on, in_nonblock;
    int in_flags;
};

/* A copy argument: "SERVICE:PATH", or a local path (one that starts with '/' or '.', has no ':',
 * or is "-"), as docker cp splits them. */
struct cp_arg {
    char *service; /* NULL: local */
    const char *path;
};

static void split_arg(char *arg, struct cp_arg *ret)
{
    ret->service = NULL;
    ret->path = arg;
    if (arg[0] == '/' || arg[0] == '.' || !strcmp(arg, "-"))
        return;
    char *colon = strchr(arg, ':');
    if (!colon)
        return;
    *colon = '\0';
    ret->service = arg;
    ret->path = colon + 1;
}

/* docker's SplitPathDirEntry: the directory and the last element of path, trailing slashes
 * ignored, a trailing "/." kept as the element "." (the directory's contents). new. */
static void split_dir_entry(const char *path, char **ret_dir, char **ret_base)
{
    size_t len = strlen(path);
    bool dot = len >= 2 && !strcmp(path + len - 2, "/.");
    char *p = xstrdup(path);
    if (dot) {
        p[len - 2] = '\0';
        len -= 2;
    }
    while (len > 1 && p[len - 1] == '/')
        p[--len] = '\0';
    char *slash = strrchr(p, '/');
    if (dot) {
        *ret_dir = *p ? xstrdup(p) : xstrdup("/");
        *ret_base = xstrdup(".");
    } else if (!slash) {
        *ret_dir = xstrdup(".");
        *ret_base = xstrdup(p);
    } else {
        *ret_base = xstrdup(slash + 1);
        *ret_dir = slash == p ? xstrdup("/") : xstrndup(p, (size_t)(slash - p));
    }
    free(p);
}

/* A path that says it must be a directory: it ends with '/' or "/.". */
static bool asserts_dir(const char *path)
{
    size_t len = strlen(path);
    return (len && path[len - 1] == '/') || (len >= 2 && !strcmp(path + len - 2, "/."));
}

/* Runs one call to its end without printing; the result (new) or the error in w. */
static void call_wait(struct cp_cmd *cp, struct engine_request *req, struct cli_call *w)
{
    if (req)
        while (!w->done && uv_run(cp->ctx->loop, UV_RUN_ONCE))
            ;
}

/* The container path's stat (new), or NULL: *ret_missing says it is not there, else the error is
 * printed. */
static json_t *stat_path(struct cp_cmd *cp, const char *id, const char *path, bool *ret_missing)
{
    struct cli_call w = {0};
    call_wait(cp, engine_container_stat_path(cp->c, id, path, cli_call_done, &w, &w.err), &w);
    json_t *st = NULL;
    *ret_missing = w.err.kind == CC_ERR_NOT_FOUND;
    if (w.err.kind == CC_ERR_NONE)
        st = json_incref(w.result);
    else if (!*ret_missing)
        cli_error_print(&w.err);
    cli_call_release(&w);
    return st;
}

static unsigned long long stat_mode(json_t *st)
{
    return (unsigned long long)json_integer_value(json_object_get(st, "mode"));
}

/* ---- Transfers ---------------------------------------------------------------------------- */

static void on_req_done(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    struct cp_cmd *cp = data;
    cp->req_done = true;
    cp->req = NULL;
    if (err)
        cc_error_copy(&cp->req_err, err);
    if (cp->untar && !cp->untar_done)
        sched_untar_end(cp->untar, err != NULL);
}

static bool on_chunk(const char *buf, size_t len, void *data)
{
    struct cp_cmd *cp = data;
    return sched_untar_feed(cp->untar, buf, len);
}

static void on_room(void *data)
{
    struct cp_cmd *cp = data;
    engine_request_resume(cp->req);
}

static void on_untar_done(const struct cc_error *err, void *data)
{
    struct cp_cmd *cp = data;
    cp->untar_done = true;
    cp->untar = NULL;
    if (err)
        cc_error_copy(&cp->untar_err, err);
    /* The writer gave up (a full disk, a refused name): the download has nowhere to go. */
    if (err && cp->req)
        engine_request_cancel(cp->req);
}

static void on_interrupt(int count, void *data)
{
    (void)count;
    struct cp_cmd *cp = data;
    if (cp->req)
        engine_request_cancel(cp->req);
}

/* Waits for the transfer (and the writer) to end; returns the exit code, the error printed. */
static int transfer_wait(struct cp_cmd *cp)
{
    struct cli_interrupt intr;
    cli_interrupt_start(cp->ctx->loop, &intr, on_interrupt, cp);
    while ((!cp->req_done || (cp->untar && !cp->untar_done)) && uv_run(cp->ctx->loop, UV_RUN_ONCE))
        ;
    int code = 0;
    /* The writer's failure is the cause when there is one; the cancelled download follows it. */
    const struct cc_error *err = cp->untar_err.kind != CC_ERR_NONE ? &cp->untar_err
                                 : cp->req_err.kind != CC_ERR_NONE ? &cp->req_err
                                                                   : NULL;
    if (intr.count > 0) {
        code = CLI_EXIT_INTERRUPTED;
    } else if (err) {
        cli_error_print(err);
        code = cli_exit_for_error(err);
    }
    cli_interrupt_stop(&intr);
    uv_run(cp->ctx->loop, UV_RUN_NOWAIT);
    cp->req_done = cp->untar_done = false;
    cc_error_release(&cp->req_err);
    cc_error_release(&cp->untar_err);
    return code;
}

/* ---- From a container --------------------------------------------------------------------- */

static int copy_from(struct cp_cmd *cp, const char *id, const char *cname, const char *src,
                     const char *dst)
{
    bool missing;
    char *src_path = xstrdup(src), *rebase = NULL, *dst_dir = NULL, *dst_base = NULL;
    char *src_dir = NULL, *src_base = NULL;
    int code = CLI_EXIT_FAILURE;
    json_t *st = stat_path(cp, id, src_path, &missing);
    if (st && cp->follow && (stat_mode(st) & GO_MODE_SYMLINK)) {
        /* -L: the link's target is copied, under the link's name. */
        const char *target = json_string_value(json_object_get(st, "linkTarget"));
        char *d, *b;
        split_dir_entry(src_path, &d, &b);
        char *abs = target && target[0] == '/' ? xstrdup(target) : xasprintf("%s/%s", d, target);
        rebase = b;
        free(d);
        free(src_path);
        src_path = abs;
        json_decref(st);
        st = stat_path(cp, id, src_path, &missing);
    }
    if (!st) {
        if (missing)
            fprintf(stderr, "error: could not find the file %s in container %s\n", src_path, cname);
        goto out;
    }
    bool src_is_dir = stat_mode(st) & GO_MODE_DIR;
    split_dir_entry(src_path, &src_dir, &src_base);
    struct sched_untar_options uo = {.raw_fd = -1, .old_base = src_base};
    if (!strcmp(dst, "-")) {
        uo.raw_fd = STDOUT_FILENO;
    } else {
        struct stat dst_st;
        bool exists = stat(dst, &dst_st) == 0, dst_is_dir = exists && S_ISDIR(dst_st.st_mode);
        split_dir_entry(dst, &dst_dir, &dst_base);
        if (exists && dst_is_dir) {
            uo.dir = dst;
            uo.new_base = rebase ? rebase : src_base;
        } else if (exists && src_is_dir) {
            fprintf(stderr, "error: cannot copy a directory to a file: '%s'\n", dst);
            goto out;
        } else if (!exists && !src_is_dir && asserts_dir(dst)) {
            fprintf(stderr, "error: no such directory: '%s'\n", dst);
            goto out;
        } else {
            uo.dir = dst_dir;
            uo.new_base = dst_base;
        }
    }
    struct cc_error err = CC_ERROR_INIT;
    if (sched_untar_new(cp->ctx->loop, &uo, on_room, on_untar_done, cp, &cp->untar, &err) < 0) {
        cli_error_print(&err);
        code = cli_exit_for_error(&err);
        cc_error_release(&err);
        goto out;
    }
    cp->req = engine_container_archive_get(cp->c, id, src_path, on_chunk, on_req_done, cp, &err);
    if (!cp->req) {
        cc_error_move(&cp->req_err, &err);
        cp->req_done = true;
        sched_untar_end(cp->untar, true);
    }
    code = transfer_wait(cp);
out:
    json_decref(st);
    free(src_path);
    free(rebase);
    free(src_dir);
    free(src_base);
    free(dst_dir);
    free(dst_base);
    return code;
}

/* ---- To a container ----------------------------------------------------------------------- */

static void on_stdin_readable(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    struct cp_cmd *cp = p->data;
    uv_poll_stop(p);
    engine_request_resume(cp->req);
}

/* The body of `cp - SERVICE:DEST`: stdin as it comes; an empty pipe pauses the upload until it is
 * readable again. */
static ssize_t read_stdin(char *buf, size_t len, void *data)
{
    struct cp_cmd *cp = data;
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, len);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && cp->in_poll_on) {
            uv_poll_start(&cp->in_poll, UV_READABLE, on_stdin_readable);
            return ENGINE_BODY_PAUSE;
        }
        return -1;
    }
}

static void stdin_open(struct cp_cmd *cp)
{
    struct stat st;
    if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode))
        return; /* a file never makes us wait */
    if (uv_poll_init(cp->ctx->loop, &cp->in_poll, STDIN_FILENO) != 0)
        return;
    cp->in_poll.data = cp;
    cp->in_poll_on = true;
    cp->in_flags = fcntl(STDIN_FILENO, F_GETFL);
    if (cp->in_flags >= 0 && !(cp->in_flags & O_NONBLOCK)) {
        fcntl(STDIN_FILENO, F_SETFL, cp->in_flags | O_NONBLOCK);
        cp->in_nonblock = true;
    }
}

static void stdin_close(struct cp_cmd *cp)
{
    if (cp->in_nonblock)
        fcntl(STDIN_FILENO, F_SETFL, cp->in_flags);
    if (cp->in_poll_on)
        uv_close((uv_handle_t *)&cp->in_poll, NULL);
    cp->in_poll_on = cp->in_nonblock = false;
}

static int copy_to(struct cp_cmd *cp, const char *id, const char *cname, const char *src,
                   const char *dst)
{
    bool missing;
    char *dst_path = xstrdup(dst), *dst_dir = NULL, *dst_base = NULL;
    char *src_dir = NULL, *src_base = NULL;
    struct build_context *bc = NULL;
    int code = CLI_EXIT_FAILURE;
    json_t *st = stat_path(cp, id, dst_path, &missing);
    if (st && (stat_mode(st) & GO_MODE_SYMLINK)) {
        /* A link at the destination is followed, as docker cp does. */
        const char *target = json_string_value(json_object_get(st, "linkTarget"));
        char *d, *b;
        split_dir_entry(dst_path, &d, &b);
        char *abs = target && target[0] == '/' ? xstrdup(target) : xasprintf("%s/%s", d, target);
        free(d);
        free(b);
        free(dst_path);
        dst_path = abs;
        json_decref(st);
        st = stat_path(cp, id, dst_path, &missing);
    }
    if (!st && !missing)
        goto out;
    bool exists = st != NULL, dst_is_dir = exists && (stat_mode(st) & GO_MODE_DIR);
    const char *put_dir;
    struct cc_error err = CC_ERROR_INIT;
    split_dir_entry(dst_path, &dst_dir, &dst_base);
    if (!strcmp(src, "-")) {
        if (!dst_is_dir) {
            fprintf(stderr, "error: destination \"%s:%s\" must be a directory\n", cname, dst);
            goto out;
        }
        put_dir = dst_path;
        stdin_open(cp);
        cp->req = engine_container_archive_put(cp->c, id, put_dir, cp->archive, read_stdin, cp,
                                               on_req_done, cp, &err);
    } else {
        struct stat sst;
        if ((cp->follow ? stat(src, &sst) : lstat(src, &sst)) < 0) {
            fprintf(stderr, "error: cannot copy '%s': %s\n", src, strerror(errno));
            goto out;
        }
        bool src_is_dir = S_ISDIR(sst.st_mode);
        split_dir_entry(src, &src_dir, &src_base);
        const char *name;
        if (exists && dst_is_dir) {
            put_dir = dst_path;
            name = src_base;
        } else if (exists && src_is_dir) {
            fprintf(stderr, "error: cannot copy a directory to a file: '%s:%s'\n", cname, dst);
            goto out;
        } else if (!exists && !src_is_dir && asserts_dir(dst)) {
            fprintf(stderr, "error: no such directory: '%s:%s'\n", cname, dst);
            goto out;
        } else {
            put_dir = dst_dir;
            name = dst_base;
        }
        if (build_context_new_copy(src, name, cp->archive, cp->follow, &bc, &err) < 0) {
            cli_error_print(&err);
            code = cli_exit_for_error(&err);
            cc_error_release(&err);
            goto out;
        }
        cp->req = engine_container_archive_put(cp->c, id, put_dir, cp->archive, build_context_read,
                                               bc, on_req_done, cp, &err);
    }
    if (!cp->req) {
        cc_error_move(&cp->req_err, &err);
        cp->req_done = true;
    }
    code = transfer_wait(cp);
    /* A failure to read the source says more than the aborted upload. */
    if (bc && build_context_error(bc) && code) {
        cli_error_print(build_context_error(bc));
    }
out:
    stdin_close(cp);
    build_context_free(bc);
    json_decref(st);
    free(dst_path);
    free(dst_dir);
    free(dst_base);
    free(src_dir);
    free(src_base);
    return code;
}

/* ---- The command -------------------------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out, "Usage:  ccompose cp [OPTIONS] SERVICE:SRC_PATH DEST_PATH|-\n"
                 "        ccompose cp [OPTIONS] SRC_PATH|- SERVICE:DEST_PATH\n\n"
                 "Copy files/folders between a service container and the local filesystem\n\n"
                 "Options:\n"
                 "      --all             Include containers created by the run command\n"
                 "  -a, --archive         Archive mode (copy all uid/gid information)\n"
                 "  -L, --follow-link     Always follow symbol link in SRC_PATH\n"
                 "      --index int       Index of the container if service has multiple "
                 "replicas\n");
}

static int cp_run(struct cli_context *ctx, int argc, char **argv)
{
    enum { OPT_INDEX = 256, OPT_ALL };
    static const struct option options[] = {
        {"all", no_argument, NULL, OPT_ALL},     {"archive", no_argument, NULL, 'a'},
        {"follow-link", no_argument, NULL, 'L'}, {"index", required_argument, NULL, OPT_INDEX},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    struct cp_cmd cp = {.ctx = ctx, .req_err = CC_ERROR_INIT, .untar_err = CC_ERROR_INIT};
    struct compose_project *model = NULL;
    struct sched_observed *observed = NULL;
    struct cli_progress *progress = NULL;
    const char *project = NULL;
    int index = 0, c, code = CLI_EXIT_OK;
    bool all = false;
    while ((c = cli_getopt_long(argc, argv, "+aLh", options, NULL)) != -1) {
        switch (c) {
        case 'a':
            cp.archive = true;
            break;
        case 'L':
            cp.follow = true;
            break;
        case OPT_ALL:
            all = true;
            break;
        case OPT_INDEX:
            if (cli_parse_count("--index", optarg, 1 << 20, &index) < 0) {
                code = CLI_EXIT_USAGE;
                goto out;
            }
            break;
        case 'h':
            usage(stdout);
            goto out;
        default:
            usage(stderr);
            code = CLI_EXIT_USAGE;
            goto out;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "error: cp needs a source and a destination\n");
        usage(stderr);
        code = CLI_EXIT_USAGE;
        goto out;
    }
    struct cp_arg src, dst;
    split_arg(argv[optind], &src);
    split_arg(argv[optind + 1], &dst);
    if (src.service && dst.service) {
        fprintf(stderr, "error: copying between services is not supported\n");
        code = CLI_EXIT_USAGE;
        goto out;
    }
    if (!src.service && !dst.service) {
        fprintf(stderr, "error: one of the paths must name a service: SERVICE:PATH\n");
        code = CLI_EXIT_USAGE;
        goto out;
    }
    bool to_service = dst.service != NULL;
    char *service = to_service ? dst.service : src.service;
    /* As docker compose's cp: the project's name only; a service it does not have has no
     * container below. */
    if ((code = cli_project_resolve(ctx, NULL, 0, false, &project, &model)) ||
        (code = cli_engine_open(ctx, &cp.c)) ||
        (code = cli_observe_containers(ctx, cp.c, project, &observed)))
        goto out;
    /* The service's containers, stopped ones too: --index picks one; from a service the first. */
    size_t n_targets = 0;
    progress = cli_progress_new(ctx);
    for (size_t i = 0; i < observed->n_containers && !code; i++) {
        const struct sched_observed_container *ct = &observed->containers[i];
        if (!ct->service || strcmp(ct->service, service) || (ct->oneoff && !all) ||
            (index > 0 && (ct->oneoff || ct->number != index)))
            continue;
        if (!to_service && n_targets > 0)
            break;
        n_targets++;
        char *text = to_service ? xasprintf("%s to %s:%s", src.path, ct->name, dst.path)
                                : xasprintf("%s:%s to %s", ct->name, src.path, dst.path);
        cli_progress_report(progress, "Container", ct->name, "Copying", text, false, false);
        code = to_service ? copy_to(&cp, ct->id, ct->name, src.path, dst.path)
                          : copy_from(&cp, ct->id, ct->name, src.path, dst.path);
        cli_progress_report(progress, "Container", ct->name, code ? "Error" : "Copied", text, true,
                            code != 0);
        free(text);
    }
    if (!n_targets) {
        if (index > 0)
            fprintf(stderr, "error: service '%s' has no container with index %d\n", service, index);
        else
            fprintf(stderr, "error: no container found for service '%s'\n", service);
        code = CLI_EXIT_FAILURE;
    }
out:
    cli_progress_free(progress);
    sched_observed_free(observed);
    engine_client_free(cp.c);
    uv_run(ctx->loop, UV_RUN_DEFAULT);
    compose_project_free(model);
    cc_error_release(&cp.req_err);
    cc_error_release(&cp.untar_err);
    return code;
}

const struct cli_command cli_cmd_cp = {
    .name = "cp",
    .summary = "Copy files/folders between a service container and the filesystem",
    .run = cp_run,
    .no_dry_run = true,
};
