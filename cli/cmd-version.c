/* `ccompose version`: ccompose's version, then the engine's version and API versions. */
#include <getopt.h>
#include <string.h>

#include "cli/commands.h"
#include "engine-client/engine.h"

struct version_op {
    struct engine_client *client;
    json_t *engine_version; /* new, from GET /version */
    char api_version[16];   /* negotiated */
    struct cc_error err;
};

static void on_version(json_t *result, const struct cc_error *err, void *data)
{
    struct version_op *op = data;
    if (err) {
        cc_error_copy(&op->err, err);
    } else {
        op->engine_version = json_incref(result);
        const char *v = engine_client_api_version(op->client);
        snprintf(op->api_version, sizeof(op->api_version), "%s", v ? v : "");
    }
    engine_client_free(op->client);
}

static const char *jstr(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static void print_pretty(const struct version_op *op, const char *host)
{
    json_t *v = op->engine_version;
    printf("Engine:         %s\n", host);
    printf("Engine version: %s\n", jstr(v, "Version"));
    printf("Engine API:     %s (minimum %s)\n", jstr(v, "ApiVersion"), jstr(v, "MinAPIVersion"));
    printf("API in use:     %s\n", op->api_version);
}

static void print_json(const struct version_op *op, const char *host)
{
    json_t *v = op->engine_version;
    json_t *out = json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:s}}", "version", CCOMPOSE_VERSION,
                            "engine", "host", host, "version", jstr(v, "Version"), "api_version",
                            jstr(v, "ApiVersion"), "min_api_version", jstr(v, "MinAPIVersion"),
                            "negotiated_api_version", op->api_version);
    char *s = json_dumps(out, JSON_INDENT(2));
    printf("%s\n", s);
    free(s);
    json_decref(out);
}

static int version_run(struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"short", no_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool shorter = false, json = false;
    int c;
    while ((c = cli_getopt_long(argc, argv, "f:h", options, NULL)) != -1) {
        switch (c) {
        case 's':
            shorter = true;
            break;
        case 'f':
            if (strcmp(optarg, "json") == 0) {
                json = true;
            } else if (strcmp(optarg, "pretty") != 0) {
                fprintf(stderr, "error: --format takes 'pretty' or 'json', not '%s'\n", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'h':
            printf("Usage:  ccompose version [OPTIONS]\n\n"
                   "Show the ccompose version and the engine's versions\n\n"
                   "Options:\n"
                   "  -f, --format string   Format the output. Values: [pretty | json].\n"
                   "                        (Default: pretty)\n"
                   "      --short           Shows only ccompose's version number\n");
            return CLI_EXIT_OK;
        default:
            return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "error: 'version' takes no arguments\n");
        return CLI_EXIT_USAGE;
    }
    if (shorter) {
        printf("%s\n", CCOMPOSE_VERSION);
        return CLI_EXIT_OK;
    }

    int exit_code = CLI_EXIT_OK;
    struct version_op op = {.err = CC_ERROR_INIT};
    struct engine_options eopts = {.host = ctx->g.host};
    char *host = NULL;
    if (!json)
        printf("ccompose version %s\n", CCOMPOSE_VERSION);
    fflush(stdout);
    if (engine_client_new(ctx->loop, &eopts, &op.client, &op.err) < 0)
        goto out;
    host = xstrdup(engine_client_host(op.client));
    if (!engine_version(op.client, on_version, &op, &op.err)) {
        engine_client_free(op.client);
        uv_run(ctx->loop, UV_RUN_DEFAULT);
        goto out;
    }
    uv_run(ctx->loop, UV_RUN_DEFAULT);
    if (op.err.kind == CC_ERR_NONE) {
        if (json)
            print_json(&op, host);
        else
            print_pretty(&op, host);
    }
out:
    if (op.err.kind != CC_ERR_NONE) {
        cli_error_print(&op.err);
        exit_code = cli_exit_for_error(&op.err);
    }
    free(host);
    json_decref(op.engine_version);
    cc_error_release(&op.err);
    return exit_code;
}

const struct cli_command cli_cmd_version = {
    .name = "version",
    .summary = "Show the ccompose version and the engine's",
    .run = version_run,
};
