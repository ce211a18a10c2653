/* Pure parsers for the small string languages inside compose files, read the way docker compose
 * v2 (compose-go, go-units, go-connections, go-shellwords) reads them: env files, durations,
 * sizes, short port and volume syntax, command strings, project names, KEY=VALUE items, and
 * finding the compose files themselves.
 *
 * Internal to compose/. None of these functions knows the YAML tree: they take C strings.
 * Results are either plain values or *borrowed* from the caller's arena (valid until
 * arena_release()); ret_ out-parameters are written only on success. Errors are
 * CC_ERR_INVALID_CONFIG (CC_ERR_NOT_FOUND / CC_ERR_IO for file discovery) with a lowercase
 * message naming the offending text in single quotes and a hint saying what to do. */
#ifndef CC_COMPOSE_PARSE_H
#define CC_COMPOSE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"

/* ---- Variable lookup and interpolation ------------------------------------------------------ */

/* Returns the value of name (*borrowed*, valid until the next call), or NULL when unset. */
typedef const char *(*parse_lookup_cb)(const char *name, void *data);

/* Expands ${VAR}-style references in text, resolving names through lookup. On success sets *ret
 * to a string borrowed from a. On failure fills reterr (message and hint; the caller adds the
 * location) and returns -1. compose/interpolate.c provides the full compose grammar; until it is
 * plugged in, parse_interpolate_simple() serves. */
typedef int (*parse_interpolate_fn)(struct arena *a, const char *text, parse_lookup_cb lookup,
                                    void *lookup_data, const char **ret, struct cc_error *reterr);

/* The small built-in interpolation: $$, $VAR, ${VAR}, ${VAR-default} and ${VAR:-default}
 * (defaults are expanded too). Unset variables expand to "". A '$' followed by anything else, or
 * an unclosed '${', is an error, as in compose. */
int parse_interpolate_simple(struct arena *a, const char *text, parse_lookup_cb lookup,
                             void *lookup_data, const char **ret, struct cc_error *reterr);

/* ---- Env files (.env, env_file:) ------------------------------------------------------------- */

struct parse_env_var {
    const char *key;   /* borrowed from the arena */
    const char *value; /* borrowed from the arena, never NULL */
};

struct parse_env_list {
    struct parse_env_var *vars; /* in file order of first appearance; a repeated key keeps its
                                   first position and takes the last value */
    size_t n;
};

struct parse_env_opts {
    parse_lookup_cb lookup; /* the process environment, for `KEY` alone and interpolation; may
                               be NULL (nothing is set) */
    void *lookup_data;
    parse_interpolate_fn interpolate; /* NULL: parse_interpolate_simple */
};

/* Parses env-file text as compose-go's dotenv parser does: KEY=VALUE, KEY: VALUE, `export KEY=..`,
 * `#` comment lines and ` #` comments after unquoted values, 'single' (literal) and "double"
 * (escapes, may span lines) quotes, and `KEY` alone (taken from lookup; left out when unset).
 * Unquoted and double-quoted values are interpolated, names resolving first to earlier keys of
 * this file, then to lookup. file names the text in errors, which carry file:line:col (1-based,
 * col in bytes). data need not be NUL-terminated. */
int parse_env_file(struct arena *a, const char *file, const char *data, size_t len,
                   const struct parse_env_opts *opts, struct parse_env_list *ret,
                   struct cc_error *reterr);

/* ---- Durations and sizes --------------------------------------------------------------------- */

/* Go's time.ParseDuration: "1m30s", "1.5s", "500ms", "10us", "-2h", "0". Result in nanoseconds;
 * values beyond int64 are an error. */
int parse_duration(const char *s, int64_t *ret, struct cc_error *reterr);

#define PARSE_DURATION_BUFSZ 32
/* Go's Duration.String(), as `docker compose config` prints it ("1m30s", "1.5s", "500ms", "0s",
 * "1h0m0s"). Writes into buf and returns it. */
char *parse_duration_format(int64_t ns, char buf[PARSE_DURATION_BUFSZ]);

/* docker's go-units RAMInBytes: "1024", "512m", "1gb", "1.5g", "100 KiB"; units b k m g t p,
 * binary (1k = 1024), case-insensitive, optionally followed by "b" or "ib". Fractions are
 * truncated to whole bytes; negative and too large values are errors. */
int parse_size(const char *s, int64_t *ret, struct cc_error *reterr);

/* ---- Ports, short syntax --------------------------------------------------------------------- */

struct parse_port {
    unsigned target;       /* 1..65535 */
    const char *published; /* "" when not set; "8000" or a range "8000-8010" */
    const char *host_ip;   /* "" when not set; IPv6 without brackets */
    const char *protocol;  /* "tcp", "udp" or "sctp" */
    const char *mode;      /* always "ingress" */
};

/* Parses "[[IP:]HOST:]CONTAINER[/PROTO]" as compose-go does, expanding a container range into one
 * entry per port (host range matched one to one), sorted as compose-go sorts them (by the port
 * number as text). A single container port with a host range keeps the range in published.
 * *ret is an array of *ret_n entries in the arena. */
int parse_port_spec(struct arena *a, const char *spec, struct parse_port **ret, size_t *ret_n,
                    struct cc_error *reterr);

/* ---- Volumes, short syntax ------------------------------------------------------------------- */

enum parse_volume_type { PARSE_VOLUME_VOLUME = 0, PARSE_VOLUME_BIND };

struct parse_volume {
    enum parse_volume_type type;
    const char *source;      /* NULL for an anonymous volume; binds: absolute */
    const char *target;      /* the path in the container */
    bool read_only;          /* "ro" (a later "rw" clears it) */
    char selinux;            /* 0, 'z' or 'Z' */
    bool nocopy;             /* "nocopy" */
    const char *propagation; /* NULL or "rprivate", "private", "rshared", ... */
    bool create_host_path;   /* binds: true, as in compose's short syntax */
};

/* Parses "SRC:DST[:MODES]" or "DST" as compose-go does. A source starting with '.', '/' or '~' is
 * a bind (relative paths are joined to base_dir, "~" and "~/" expand to home), anything else a
 * named volume. MODES is a comma-separated list; unknown words (and the consistency words
 * cached, delegated, consistent) are accepted and ignored, as compose does. */
int parse_volume_spec(struct arena *a, const char *spec, const char *base_dir, const char *home,
                      struct parse_volume *ret, struct cc_error *reterr);

/* ---- Command strings ------------------------------------------------------------------------- */

/* Splits command:/entrypoint: strings as go-shellwords does (no variable expansion, no command
 * substitution): blanks separate words, 'single' and "double" quotes group, backslash escapes
 * (\t and \n become tab and newline). An unterminated quote or trailing backslash is an error,
 * and so is an unquoted shell operator (; & | < >), which compose would silently cut the command
 * at. *ret is a NULL-terminated array of *ret_n words in the arena. */
int parse_command_line(struct arena *a, const char *s, const char ***ret, size_t *ret_n,
                       struct cc_error *reterr);

/* ---- Project names --------------------------------------------------------------------------- */

/* The project name docker compose derives from a directory's base name: lowercased, characters
 * outside [a-z0-9_-] dropped, leading '_' and '-' dropped. Empty result is an error. */
int parse_project_name_from_dir(struct arena *a, const char *dir, const char **ret,
                                struct cc_error *reterr);

/* Checks an explicit project name (-p, COMPOSE_PROJECT_NAME, name:): [a-z0-9][a-z0-9_-]*. An
 * invalid name is rejected, never normalised. */
int parse_project_name_check(const char *name, struct cc_error *reterr);

/* ---- KEY=VALUE list items -------------------------------------------------------------------- */

/* Splits "KEY=VALUE" at the first '='. "KEY" alone gives *ret_value NULL (environment: take it
 * from the shell; labels: the caller uses ""). An empty key is an error; what names the list in
 * the message (e.g. "environment"). */
int parse_kv_item(struct arena *a, const char *item, const char *what, const char **ret_key,
                  const char **ret_value, struct cc_error *reterr);

/* extra_hosts items: "host=ip" or "host:ip" ('=' tried first, so "host=::1" and "host:::1" both
 * work), several IPs comma-separated, "[::1]" brackets removed. *ret_ips is a NULL-terminated
 * array of *ret_n addresses. */
int parse_extra_host(struct arena *a, const char *item, const char **ret_host,
                     const char ***ret_ips, size_t *ret_n, struct cc_error *reterr);

/* ---- Finding compose files ------------------------------------------------------------------- */

/* The files docker compose loads when none is given: the first of compose.yaml, compose.yml,
 * docker-compose.yml, docker-compose.yaml in workdir or its nearest parent holding one, then the
 * first of compose.override.yml, compose.override.yaml, docker-compose.override.yml,
 * docker-compose.override.yaml beside it. *ret is a NULL-terminated array of 1 or 2 absolute
 * paths. CC_ERR_NOT_FOUND when no directory up to / holds one. */
int parse_find_compose_files(struct arena *a, const char *workdir, const char ***ret, size_t *ret_n,
                             struct cc_error *reterr);

/* COMPOSE_FILE: value split on separator (COMPOSE_PATH_SEPARATOR; NULL or "" means ":"), empty
 * entries skipped, relative paths joined to workdir ("-", stdin, kept as is). */
int parse_compose_file_env(struct arena *a, const char *value, const char *separator,
                           const char *workdir, const char ***ret, size_t *ret_n,
                           struct cc_error *reterr);

/* ---- Paths ----------------------------------------------------------------------------------- */

/* Go's filepath.Clean for '/'-separated paths: "a/../b/./c/" -> "b/c", "" -> ".". */
const char *parse_path_clean(struct arena *a, const char *path);
/* Go's filepath.Join(base, path) when path is relative; an absolute path is kept as written. */
const char *parse_path_join(struct arena *a, const char *base, const char *path);
/* "C:..." or "\\\\host...": a bind source compose-go takes for a Windows path and keeps as
 * written, in the short syntax and (so that `config` output reads back the same) the long one. */
bool parse_path_is_windows(const char *path);

#endif
