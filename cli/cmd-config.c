/* `ccompose config`: the project as ccompose understands it, normalised as docker compose v2
 * prints it (YAML or JSON), or one list of names (--services, --volumes, --networks,
 * --profiles, --images), or nothing at all (-q: the exit status says whether the files are
 * valid). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "compose/compose.h"
#include "scheduler/scheduler.h"

enum list_what {
    LIST_NONE,
    LIST_SERVICES,
    LIST_VOLUMES,
    LIST_NETWORKS,
    LIST_PROFILES,
    LIST_IMAGES
};

static void config_usage(FILE *out, const char *name)
{
    /* docker compose's words; --no-consistency and --resolve-image-digests are accepted so that
     * scripts written for it run, and change nothing here. */
    fprintf(out, "Usage:  ccompose %s [OPTIONS] [SERVICE...]\n\n"
                 "Parse, resolve and render compose file in canonical format\n\n"
                 "Options:\n"
                 "      --format string           Format the output. Values: [yaml | json | k8s]\n"
                 "                                (default \"yaml\"; k8s: Kubernetes manifests)\n"
                 "      --hash string             Print the service config hash, one per line\n"
                 "                                (\"*\": all services)\n"
                 "      --images                  Print the image names, one per line.\n"
                 "      --networks                Print the network names, one per line.\n"
                 "      --no-consistency          Don't check model consistency (ignored)\n"
                 "      --no-interpolate          Don't interpolate environment variables\n"
                 "      --no-normalize            Don't normalize compose model\n"
                 "      --no-path-resolution      Don't resolve file paths\n"
                 "  -o, --output string           Save to file (default to stdout)\n"
                 "      --profiles                Print the profile names, one per line.\n"
                 "  -q, --quiet                   Only validate the configuration, don't print\n"
                 "                                anything\n"
                 "      --resolve-image-digests   Pin image tags to digests (ignored)\n"
                 "      --services                Print the service names, one per line.\n"
                 "      --volumes                 Print the volume names, one per line.\n",
            name);
}

static void print_list(FILE *out, const struct compose_project *p, enum list_what what)
{
    switch (what) {
    case LIST_SERVICES:
        for (size_t i = 0; i < p->n_services; i++)
            fprintf(out, "%s\n", p->services[i].name);
        break;
    case LIST_VOLUMES:
        for (size_t i = 0; i < p->n_volumes; i++)
            fprintf(out, "%s\n", p->volumes[i].key);
        break;
    case LIST_NETWORKS:
        for (size_t i = 0; i < p->n_networks; i++)
            fprintf(out, "%s\n", p->networks[i].key);
        break;
    case LIST_PROFILES:
        for (size_t i = 0; i < p->all_profiles.n; i++)
            fprintf(out, "%s\n", p->all_profiles.v[i]);
        break;
    case LIST_IMAGES:
        /* A service without image: builds one named <project>-<service>, as the scheduler does. */
        for (size_t i = 0; i < p->n_services; i++) {
            const struct compose_service *s = &p->services[i];
            if (s->image)
                fprintf(out, "%s\n", s->image);
            else
                fprintf(out, "%s-%s\n", p->name, s->name);
        }
        break;
    case LIST_NONE:
        break;
    }
}

enum {
    OPT_FORMAT = 256,
    OPT_SERVICES,
    OPT_VOLUMES,
    OPT_NETWORKS,
    OPT_PROFILES,
    OPT_IMAGES,
    OPT_HASH,
    OPT_NO_INTERPOLATE,
    OPT_NO_NORMALIZE,
    OPT_IGNORED
};

/* Marks service i and what it depends on. */
static void select_with_deps(const struct compose_project *p, bool *sel, size_t i)
{
    if (sel[i])
        return;
    sel[i] = true;
    for (size_t d = 0; d < p->services[i].n_depends_on; d++) {
        const struct compose_service *dep =
            compose_project_service(p, p->services[i].depends_on[d].service);
        if (dep)
            select_with_deps(p, sel, (size_t)(dep - p->services));
    }
}

/* The services named on the command line and their dependencies, as a view of p sharing its
 * arena: *ret_services is new (free() it), the rest borrowed. Fails on an unknown name. */
static int select_services(const struct compose_project *p, char **names, int n,
                           struct compose_project *view, struct compose_service **ret_services)
{
    bool *sel = xcalloc(p->n_services ? p->n_services : 1, sizeof(*sel));
    int r = 0;
    for (int i = 0; i < n; i++) {
        const struct compose_service *s = compose_project_service(p, names[i]);
        if (!s) {
            fprintf(stderr, "error: no such service: '%s'\n", names[i]);
            r = -1;
            continue;
        }
        select_with_deps(p, sel, (size_t)(s - p->services));
    }
    struct compose_service *v = xcalloc(p->n_services ? p->n_services : 1, sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < p->n_services; i++)
        if (sel[i])
            v[k++] = p->services[i];
    free(sel);
    /* A view: the copy's arena is never released (p owns it). */
    memcpy(view, p, sizeof(*view));
    view->services = v;
    view->n_services = k;
    *ret_services = v;
    return r;
}

/* --hash: "SERVICE HASH" lines, the hash being the one up stores in the config-hash label, for
 * every service ("*") or the comma-separated ones named, in the order named. */
static int print_hashes(FILE *out, const struct compose_project *p, const char *which)
{
    int code = CLI_EXIT_OK;
    char *names = xstrdup(which);
    char *save = NULL;
    bool all = strcmp(which, "*") == 0;
    char *name = all ? NULL : strtok_r(names, ",", &save);
    for (size_t i = 0; all ? i < p->n_services : name != NULL;
         i++, name = all ? NULL : strtok_r(NULL, ",", &save)) {
        const struct compose_service *s = all ? &p->services[i] : compose_project_service(p, name);
        if (!s) {
            fprintf(stderr, "error: no such service: '%s'\n", name);
            code = CLI_EXIT_USAGE;
            continue;
        }
        char *hash = sched_config_hash(p, s);
        if (!hash) {
            fprintf(stderr, "error: cannot compute the config hash of service '%s'\n", s->name);
            code = CLI_EXIT_FAILURE;
            continue;
        }
        fprintf(out, "%s %s\n", s->name, hash);
        free(hash);
    }
    free(names);
    return code;
}

/* Writes text to output (NULL: standard output). */
static int write_out(const char *output, const char *text)
{
    FILE *out = output ? fopen(output, "w") : stdout;
    if (!out || fputs(text, out) < 0 || (output && fclose(out) != 0)) {
        fprintf(stderr, "error: cannot write '%s': %s\n", output ? output : "standard output",
                strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

/* --no-interpolate: the merged files as written (compose_config_dump_raw()). */
static int config_raw(struct cli_context *ctx, int argc, char **argv,
                      struct compose_load_options *o, enum compose_dump_format format,
                      const char *output, bool quiet)
{
    struct compose_diag diag;
    struct cc_error err = CC_ERROR_INIT;
    char *text = NULL;
    compose_diag_init(&diag);
    cli_project_options(ctx, (const char *const *)argv, (size_t)argc, o);
    int r = compose_config_dump_raw(o, format, &text, &diag, &err);
    int code = cli_load_report(r, &diag, &err);
    if (code == CLI_EXIT_OK && !quiet)
        code = write_out(output, text);
    free(text);
    cc_error_release(&err);
    compose_diag_release(&diag);
    return code;
}

static int config_run(struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"services", no_argument, NULL, OPT_SERVICES},
        {"volumes", no_argument, NULL, OPT_VOLUMES},
        {"networks", no_argument, NULL, OPT_NETWORKS},
        {"profiles", no_argument, NULL, OPT_PROFILES},
        {"images", no_argument, NULL, OPT_IMAGES},
        {"hash", required_argument, NULL, OPT_HASH},
        {"no-interpolate", no_argument, NULL, OPT_NO_INTERPOLATE},
        {"no-normalize", no_argument, NULL, OPT_NO_NORMALIZE},
        {"no-path-resolution", no_argument, NULL, OPT_NO_NORMALIZE},
        {"no-consistency", no_argument, NULL, OPT_IGNORED},
        {"resolve-image-digests", no_argument, NULL, OPT_IGNORED},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    enum compose_dump_format format = COMPOSE_DUMP_YAML;
    bool k8s = false; /* Kubernetes manifests instead of the compose model */
    enum list_what what = LIST_NONE;
    const char *output = NULL, *hash = NULL;
    bool quiet = false;
    struct compose_load_options base = {0};
    int c;
    while ((c = cli_getopt_long(argc, argv, "o:qh", options, NULL)) != -1) {
        switch (c) {
        case OPT_FORMAT:
            if (strcmp(optarg, "yaml") == 0) {
                format = COMPOSE_DUMP_YAML;
            } else if (strcmp(optarg, "json") == 0) {
                format = COMPOSE_DUMP_JSON;
            } else if (strcmp(optarg, "k8s") == 0) {
                k8s = true;
            } else {
                fprintf(stderr, "error: --format takes yaml, json or k8s, not '%s'\n", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'o':
            output = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        case OPT_SERVICES:
            what = LIST_SERVICES;
            break;
        case OPT_VOLUMES:
            what = LIST_VOLUMES;
            break;
        case OPT_NETWORKS:
            what = LIST_NETWORKS;
            break;
        case OPT_PROFILES:
            what = LIST_PROFILES;
            break;
        case OPT_IMAGES:
            what = LIST_IMAGES;
            break;
        case OPT_HASH:
            hash = optarg;
            break;
        case OPT_NO_INTERPOLATE:
            base.no_interpolate = true;
            break;
        case OPT_NO_NORMALIZE:
            base.no_normalize = true;
            break;
        case OPT_IGNORED:
            break;
        case 'h':
            config_usage(stdout, strcmp(argv[0], "convert") == 0 ? "convert" : "config");
            return CLI_EXIT_OK;
        default:
            return CLI_EXIT_USAGE;
        }
    }

    if (k8s && (base.no_interpolate || what != LIST_NONE || hash)) {
        fprintf(stderr, "error: --format k8s needs the whole model: not with --no-interpolate, "
                        "--hash or the lists\n");
        return CLI_EXIT_USAGE;
    }
    if (base.no_interpolate && what == LIST_NONE && !hash)
        return config_raw(ctx, argc - optind, argv + optind, &base, format, output, quiet);
    /* Names are never interpolated: lists come from the model as usual. */
    base.no_interpolate = false;

    struct compose_project *p = NULL;
    int code = cli_project_load_with(ctx, (const char *const *)argv + optind,
                                     (size_t)(argc - optind), &base, &p);
    if (code != CLI_EXIT_OK || quiet)
        goto out;

    struct compose_project view;
    struct compose_service *selected = NULL;
    const struct compose_project *shown = p;
    if (optind < argc) {
        if (select_services(p, argv + optind, argc - optind, &view, &selected) < 0) {
            free(selected);
            code = CLI_EXIT_USAGE;
            goto out;
        }
        shown = &view;
    }

    FILE *out = stdout;
    if (output && !(out = fopen(output, "w"))) {
        fprintf(stderr, "error: cannot write '%s': %s\n", output, strerror(errno));
        code = CLI_EXIT_FAILURE;
        free(selected);
        goto out;
    }
    if (hash) {
        code = print_hashes(out, p, hash);
    } else if (what != LIST_NONE) {
        print_list(out, shown, what);
    } else {
        char *text = NULL;
        struct cc_error err = CC_ERROR_INIT;
        if ((k8s ? compose_project_k8s(shown, &text, &err)
                 : compose_project_write(shown, format, base.no_interpolate ? COMPOSE_DUMP_RAW : 0,
                                         out, &err)) < 0) {
            cli_error_print(&err);
            code = CLI_EXIT_FAILURE;
        } else if (text) {
            fputs(text, out);
        }
        free(text);
        cc_error_release(&err);
    }
    if (out != stdout && fclose(out) != 0) {
        fprintf(stderr, "error: cannot write '%s': %s\n", output, strerror(errno));
        code = CLI_EXIT_FAILURE;
    }
    free(selected);
out:
    compose_project_free(p);
    return code;
}

const struct cli_command cli_cmd_config = {
    .name = "config",
    .summary = "Parse, resolve and render compose file in canonical format",
    .run = config_run,
};

/* docker compose's alias of config; `convert --format k8s` is where the manifests are asked for. */
const struct cli_command cli_cmd_convert = {
    .name = "convert",
    .summary = "Alias of config (--format k8s: Kubernetes manifests)",
    .run = config_run,
};
