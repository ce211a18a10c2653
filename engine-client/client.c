/* The transport under every engine call: libcurl's multi interface driven by libuv.
 *
 * curl tells us which sockets to watch (on_curl_socket) and when to wake it (on_curl_timer); libuv
 * watches them (uv_poll_t per socket, one uv_timer_t) and hands activity back to curl with
 * curl_multi_socket_action(); finished transfers come out of curl_multi_info_read(). Each request
 * is one struct engine_request whose pointer rides on CURLOPT_PRIVATE.
 *
 * Two rules keep this safe. We never remove an easy handle or call curl from inside one of curl's
 * own callbacks: cancellations are marked and carried out from a 0 ms "defer" timer. And memory
 * holding a uv handle is only freed in that handle's close callback. */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "engine-client/engine-internal.h"
#include "engine-client/stream.h"

#define DEFAULT_HOST               "unix:///var/run/docker.sock"
#define DEFAULT_CONNECT_TIMEOUT_MS 5000L
/* A JSON answer larger than this is not something the engine sends for any call we make. */
#define MAX_JSON_BODY (256u * 1024 * 1024)

enum neg_state { NEG_NONE, NEG_RUNNING, NEG_DONE };

struct engine_client {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t curl_timer; /* when curl wants to be called for timeouts */
    uv_timer_t defer;      /* runs cancellations outside curl's callbacks */
    char *host;            /* as given or found, e.g. "unix:///var/run/docker.sock" */
    char *unix_path;       /* for unix:// hosts, else NULL */
    char *base_url;        /* "http://localhost", "http://HOST:PORT" or "https://HOST:PORT" */
    /* TLS for tcp:// hosts (DOCKER_TLS_VERIFY, DOCKER_TLS): the files to use, each NULL when not
     * used; tls_verify: the engine's certificate is checked against tls_ca. */
    bool tls, tls_verify;
    char *tls_ca, *tls_cert, *tls_key;
    char *tls_dir; /* where they were looked for, for messages */
    long connect_timeout_ms;
    long request_timeout_ms;
    enum neg_state neg;
    char api_version[16];
    enum engine_kind kind;
    struct engine_request *requests; /* every live request, queued or running */
    struct sock_ctx *socks;          /* every socket curl asked us to watch */
    bool freeing;
    bool in_curl;     /* inside curl_multi_socket_action(), i.e. maybe in one of curl's callbacks */
    int limit;        /* calls that are not streams in flight at most; 0: no limit */
    int limited;      /* such calls in flight now */
    int held;         /* calls queued behind the limit */
    int open_handles; /* curl_timer and defer, until their close callbacks ran */
};

enum req_state { REQ_QUEUED, REQ_RUNNING, REQ_DONE };

struct engine_request {
    struct engine_client *c;
    struct engine_request *prev, *next;
    enum req_state state;
    CURL *easy;
    char *method;
    char *path; /* without the version prefix */
    bool unversioned;
    bool is_ping;
    char *body;
    size_t body_len;
    engine_body_read_cb read_body;
    void *read_data;
    struct curl_slist *headers;
    enum engine_resp_mode mode;
    engine_json_item_cb on_item;
    engine_output_cb on_output;
    engine_chunk_cb on_chunk;
    bool path_stat;
    bool paused;        /* curl holds the transfer: a chunk refused or a body paused */
    bool resume_wanted; /* engine_request_resume() asked; on_defer unpauses */
    bool item_errors;
    bool streaming;
    long timeout_ms;
    engine_cb cb;
    void *data;

    long status;     /* HTTP status, once known */
    struct buf resp; /* the JSON body, or an error body */
    struct engine_jsonl_decoder jsonl;
    struct engine_mux_decoder mux;
    struct cc_error err; /* the first failure seen while reading the body */
    bool cancelled;
    bool start_deferred; /* submitted from inside curl: on_defer starts it */
    bool held;           /* waits for a slot under the client's limit: on_defer starts it */
    bool counted;        /* holds one of those slots while it runs */
    char errbuf[CURL_ERROR_SIZE];
    char *hdr_api_version;    /* ping: API-Version */
    char *hdr_libpod_version; /* ping: Libpod-Api-Version */
    char *hdr_path_stat;      /* X-Docker-Container-Path-Stat (base64 JSON) */
    json_t *health_seen;      /* Podman's event stream: each container's last health status */
    json_t *pull_done;        /* Podman's pull: the blobs downloaded so far */
    long long until_ns;       /* Podman's event replay: its until (ns), applied here */
};

static const char *const req_state_names[] = {"queued", "running", "done"};

static void req_set_state(struct engine_request *r, enum req_state state)
{
    log_debug("%s: %s %s: %s -> %s", __func__, r->method, r->path, req_state_names[r->state],
              req_state_names[state]);
    r->state = state;
}

/* ---- Versions and paths ------------------------------------------------------------------ */

static void parse_version(const char *v, long *major, long *minor)
{
    char *end;
    *major = strtol(v, &end, 10);
    *minor = *end == '.' ? strtol(end + 1, NULL, 10) : 0;
}

int engine_version_compare(const char *a, const char *b)
{
    long amaj, amin, bmaj, bmin;
    parse_version(a, &amaj, &amin);
    parse_version(b, &bmaj, &bmin);
    if (amaj != bmaj)
        return amaj < bmaj ? -1 : 1;
    if (amin != bmin)
        return amin < bmin ? -1 : 1;
    return 0;
}

static void add_escaped(struct buf *b, const char *s, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p) || (*p && strchr(keep, *p))) {
            buf_addc(b, (char)*p);
        } else {
            char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            buf_add(b, enc, 3);
        }
    }
}

void engine_buf_add_escaped(struct buf *b, const char *s)
{
    add_escaped(b, s, "/:@");
}

void engine_query_add(struct buf *path, const char *key, const char *value)
{
    buf_addc(path, strchr(buf_str(path), '?') ? '&' : '?');
    add_escaped(path, key, "");
    buf_addc(path, '=');
    add_escaped(path, value, "");
}

void engine_query_add_json(struct buf *path, const char *key, json_t *value)
{
    char *s = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    engine_query_add(path, key, s ? s : "null");
    free(s);
}

void engine_query_add_bool(struct buf *path, const char *key, bool value)
{
    engine_query_add(path, key, value ? "1" : "0");
}

/* ---- Requests ---------------------------------------------------------------------------- */

static void req_free(struct engine_request *r)
{
    if (!r)
        return;
    if (r->easy)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    free(r->method);
    free(r->path);
    free(r->body);
    buf_release(&r->resp);
    engine_jsonl_release(&r->jsonl);
    engine_mux_release(&r->mux);
    cc_error_release(&r->err);
    free(r->hdr_api_version);
    free(r->hdr_libpod_version);
    free(r->hdr_path_stat);
    json_decref(r->health_seen);
    json_decref(r->pull_done);
    free(r);
}

static void req_unlink(struct engine_request *r)
{
    struct engine_client *c = r->c;
    if (r->prev)
        r->prev->next = r->next;
    else
        c->requests = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

enum cc_error_kind engine_status_kind(long status)
{
    return status == 404   ? CC_ERR_NOT_FOUND
           : status == 409 ? CC_ERR_CONFLICT
           : status == 400 ? CC_ERR_BAD_REQUEST
           : status >= 500 ? CC_ERR_SERVER
                           : CC_ERR_FAILED;
}

/* The ping's answer: {"ApiVersion", "Engine"}. */
static json_t *ping_result(struct engine_request *r)
{
    return json_pack("{s:s, s:s, s:s?}", "ApiVersion", r->hdr_api_version ? r->hdr_api_version : "",
                     "Engine", r->hdr_libpod_version ? "podman" : "docker", "LibpodApiVersion",
                     r->hdr_libpod_version);
}

/* The archive stat header: base64 of a JSON object. */
static json_t *path_stat_result(struct engine_request *r, struct cc_error *err)
{
    const char *b64 = r->hdr_path_stat ? r->hdr_path_stat : "";
    size_t len = strlen(b64);
    unsigned char *raw = xmalloc(len / 4 * 3 + 4);
    int n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len);
    /* EVP_DecodeBlock counts the padding's zero bytes: JSON ends at its closing brace. */
    while (n > 0 && raw[n - 1] != '}')
        n--;
    json_t *v = n > 0 ? json_loadb((const char *)raw, (size_t)n, 0, NULL) : NULL;
    free(raw);
    if (!v)
        cc_error_set(err, CC_ERR_PROTOCOL, "the engine's answer to %s %s has no usable path stat",
                     r->method, r->path);
    return v;
}

/* Fills err from a finished transfer: cancellation, a transport failure, an engine error status
 * or a body we could not read. Returns the decoded result (new) on success. */
static json_t *req_outcome(struct engine_request *r, CURLcode code, struct cc_error *err)
{
    struct engine_client *c = r->c;
    if (r->cancelled) {
        cc_error_set(err, CC_ERR_CANCELLED, "request %s %s cancelled", r->method, r->path);
        return NULL;
    }
    if (r->err.kind != CC_ERR_NONE) {
        cc_error_copy(err, &r->err);
        return NULL;
    }
    if (code != CURLE_OK) {
        const char *why = r->errbuf[0] ? r->errbuf : curl_easy_strerror(code);
        switch (code) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
            /* curl speaks of "localhost port 80" for unix sockets: say what really failed. */
            if (c->unix_path && access(c->unix_path, F_OK) != 0)
                why = "no such socket";
            else if (c->unix_path)
                why = "connection refused";
            cc_error_set(err, CC_ERR_UNREACHABLE, "cannot reach the engine at %s: %s", c->host,
                         why);
            cc_error_hint(err, "start the engine (e.g. 'dockerd' or 'systemctl start docker'), or "
                               "set DOCKER_HOST or -H to the address it listens on");
            break;
        case CURLE_OPERATION_TIMEDOUT:
            if (r->status == 0 && strstr(why, "onnect")) {
                cc_error_set(err, CC_ERR_UNREACHABLE,
                             "cannot reach the engine at %s: no answer to connect", c->host);
                cc_error_hint(err, "check that the engine runs and listens there, or set "
                                   "DOCKER_HOST");
            } else {
                long limit = r->timeout_ms > 0 ? r->timeout_ms : c->request_timeout_ms;
                cc_error_set(err, CC_ERR_TIMEOUT,
                             "the engine at %s did not answer %s %s within %.0f s", c->host,
                             r->method, r->path, (double)limit / 1000);
                cc_error_hint(err, "the engine is overloaded or stuck; to wait longer for each "
                                   "answer, set COMPOSE_HTTP_TIMEOUT (seconds)");
            }
            break;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
            if (c->tls && r->status == 0 && code != CURLE_GOT_NOTHING &&
                code != CURLE_PARTIAL_FILE) {
                /* The handshake failed, or the engine dropped the connection at its end because
                 * it did not accept our certificate. */
                cc_error_set(err, CC_ERR_UNREACHABLE, "cannot reach the engine at %s over TLS: %s",
                             c->host, why);
                cc_error_hint(err,
                              "check that DOCKER_CERT_PATH (%s) holds the engine's CA as ca.pem "
                              "and a client certificate it trusts as cert.pem and key.pem",
                              c->tls_dir ? c->tls_dir : "unset");
                break;
            }
            /* The connection broke under a request: the engine stopped, crashed or restarted (or
             * something between cut it). Whether the request took effect is unknown. */
            cc_error_set(err, CC_ERR_UNREACHABLE,
                         "lost the connection to the engine at %s during %s %s: %s", c->host,
                         r->method, r->path, why);
            cc_error_hint(err, "the engine may have stopped or restarted: once it answers again, "
                               "run the command again (it picks up where this one stopped)");
            break;
        case CURLE_ABORTED_BY_CALLBACK:
        case CURLE_READ_ERROR:
            cc_error_set(err, CC_ERR_IO, "sending the body of %s %s failed", r->method, r->path);
            break;
        default:
            cc_error_set(err, CC_ERR_PROTOCOL, "%s %s failed: %s", r->method, r->path, why);
            break;
        }
        return NULL;
    }
    if (r->status >= 400) {
        long status = r->status;
        if (c->kind == ENGINE_PODMAN) {
            json_t *body = json_loadb(r->resp.data ? r->resp.data : "", r->resp.len, 0, NULL);
            status = engine_podman_error_status(r->status, body);
            json_decref(body);
        }
        char *what = xasprintf("%s %s", r->method, r->path);
        engine_http_error(status, r->resp.data, r->resp.len, what, err);
        free(what);
        if (!c->unix_path && !c->tls && err->engine_message &&
            strstr(err->engine_message, "HTTP request to an HTTPS server")) {
            int http_status = err->http_status;
            char *message = err->engine_message;
            err->engine_message = NULL;
            cc_error_set(err, CC_ERR_UNREACHABLE,
                         "the engine at %s speaks only TLS, and TLS is not turned on", c->host);
            cc_error_hint(err, "set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the directory of "
                               "the engine's ca.pem and the client's cert.pem and key.pem");
            err->http_status = http_status;
            err->engine_message = message;
        }
        return NULL;
    }
    if (r->is_ping)
        return ping_result(r);
    if (r->path_stat)
        return path_stat_result(r, err);
    switch (r->mode) {
    case ENGINE_RESP_JSON: {
        /* Podman answers a detached exec start with a lone newline: no body either. */
        size_t blank = 0;
        while (blank < r->resp.len && r->resp.data[blank] && strchr(" \t\r\n", r->resp.data[blank]))
            blank++;
        if (blank == r->resp.len)
            return NULL;
        json_error_t jerr;
        json_t *v = json_loadb(r->resp.data, r->resp.len, JSON_DECODE_ANY, &jerr);
        /* Podman answers some calls that Docker answers with no body (network connect and
         * disconnect) with a plain "OK". */
        const char *text = buf_str(&r->resp) + blank;
        if (!v && c->kind == ENGINE_PODMAN && !strncmp(text, "OK", 2) &&
            !text[2 + strspn(text + 2, " \t\r\n")])
            return NULL;
        if (!v)
            cc_error_set(err, CC_ERR_PROTOCOL, "the engine's answer to %s %s is not JSON: %s",
                         r->method, r->path, jerr.text);
        else if (c->kind == ENGINE_PODMAN)
            engine_podman_fix_result(r->method, r->path, v);
        return v;
    }
    case ENGINE_RESP_JSON_LINES:
        engine_jsonl_finish(&r->jsonl, err);
        return NULL;
    case ENGINE_RESP_MULTIPLEXED:
        engine_mux_finish(&r->mux, err);
        return NULL;
    case ENGINE_RESP_RAW:
        return NULL;
    }
    return NULL;
}

static void negotiated(struct engine_client *c, struct engine_request *ping,
                       const struct cc_error *ping_err);
static void on_defer(uv_timer_t *t);

/* Ends a request: outcome, user callback once, free. The easy handle is already out of the multi
 * handle (or was never in it). */
static void req_complete(struct engine_request *r, CURLcode code)
{
    struct engine_client *c = r->c;
    struct cc_error err = CC_ERROR_INIT;
    json_t *result = req_outcome(r, code, &err);
    if (err.kind != CC_ERR_NONE) {
        json_decref(result);
        result = NULL;
    }
    req_set_state(r, REQ_DONE);
    req_unlink(r);
    if (r->counted) {
        c->limited--;
        if (c->held > 0)
            uv_timer_start(&c->defer, on_defer, 0, 0);
    }
    if (r->held)
        c->held--;
    if (r->is_ping && c->neg != NEG_DONE)
        negotiated(c, r, err.kind != CC_ERR_NONE ? &err : NULL);
    if (r->cb)
        r->cb(result, err.kind != CC_ERR_NONE ? &err : NULL, r->data);
    json_decref(result);
    cc_error_release(&err);
    req_free(r);
}

/* curl's write callback: the response body as it arrives. Returning less than asked aborts the
 * transfer; req->err says why. */
static size_t on_curl_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct engine_request *r = userdata;
    size_t n = size * nmemb;
    if (r->cancelled)
        return 0;
    if (r->status == 0)
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->status >= 400 || r->mode == ENGINE_RESP_JSON || r->is_ping) {
        if (r->resp.len + n > MAX_JSON_BODY) {
            cc_error_set(&r->err, CC_ERR_PROTOCOL, "the engine's answer to %s %s is too large",
                         r->method, r->path);
            return 0;
        }
        buf_add(&r->resp, ptr, n);
        return n;
    }
    int rc = 0;
    switch (r->mode) {
    case ENGINE_RESP_JSON_LINES:
        rc = engine_jsonl_feed(&r->jsonl, ptr, n, &r->err);
        break;
    case ENGINE_RESP_MULTIPLEXED:
        rc = engine_mux_feed(&r->mux, ptr, n, &r->err);
        break;
    case ENGINE_RESP_RAW:
        if (r->on_chunk && n && !r->on_chunk(ptr, n, r->data)) {
            if (r->cancelled)
                return 0;
            log_debug("%s: %s %s: the receiver is full, pausing", __func__, r->method, r->path);
            r->paused = true;
            return CURL_WRITEFUNC_PAUSE;
        }
        if (r->on_output && n)
            r->on_output(ENGINE_RAW, ptr, n, r->data);
        break;
    case ENGINE_RESP_JSON:
        break;
    }
    if (rc < 0 || r->err.kind != CC_ERR_NONE || r->cancelled)
        return 0;
    return n;
}

/* Decoded stream items pass through here so that a cancelled or failed request delivers nothing
 * more, and so that progress items carrying an error fail the request. */
static void on_stream_item(json_t *item, void *data)
{
    struct engine_request *r = data;
    if (r->cancelled || r->err.kind != CC_ERR_NONE)
        return;
    if (r->until_ns && engine_podman_event_after(item, r->until_ns))
        return;
    if (r->health_seen && !engine_podman_fix_event(r->health_seen, item))
        return;
    if (r->c->kind == ENGINE_PODMAN && !strncmp(r->path, "/build", 6))
        engine_podman_fix_build_item(item);
    if (r->item_errors) {
        const char *msg = json_string_value(json_object_get(item, "error"));
        if (!msg)
            msg =
                json_string_value(json_object_get(json_object_get(item, "errorDetail"), "message"));
        if (msg) {
            enum cc_error_kind kind =
                r->pull_done ? engine_podman_pull_error_kind(msg) : CC_ERR_FAILED;
            cc_error_set(&r->err, kind, "%s", msg);
            r->err.engine_message = xstrdup(msg);
            if (kind == CC_ERR_NOT_FOUND)
                r->err.http_status = 404;
        }
    }
    json_t *instead = r->pull_done ? engine_podman_fix_pull_item(r->pull_done, r->path, item) : NULL;
    size_t i;
    json_t *v;
    if (instead && r->on_item) {
        json_array_foreach(instead, i, v)
        {
            if (r->cancelled)
                break;
            r->on_item(v, r->data);
        }
    } else if (r->on_item) {
        r->on_item(item, r->data);
    }
    json_decref(instead);
}

static void on_stream_output(enum engine_stream_fd fd, const char *buf, size_t len, void *data)
{
    struct engine_request *r = data;
    if (r->cancelled)
        return;
    if (r->on_output)
        r->on_output(fd, buf, len, r->data);
}

static size_t on_curl_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct engine_request *r = userdata;
    size_t n = size * nitems;
    const char *v;
    size_t vlen;
    if (engine_http_header_is(buf, n, "API-Version", &v, &vlen)) {
        free(r->hdr_api_version);
        r->hdr_api_version = xstrndup(v, vlen);
    } else if (engine_http_header_is(buf, n, "X-Docker-Container-Path-Stat", &v, &vlen)) {
        free(r->hdr_path_stat);
        r->hdr_path_stat = xstrndup(v, vlen);
    } else if (engine_http_header_is(buf, n, "Libpod-API-Version", &v, &vlen)) {
        free(r->hdr_libpod_version);
        r->hdr_libpod_version = xstrndup(v, vlen);
    }
    return n;
}

static size_t on_curl_read(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct engine_request *r = userdata;
    if (r->cancelled)
        return CURL_READFUNC_ABORT;
    ssize_t n = r->read_body(buf, size * nitems, r->read_data);
    if (n == ENGINE_BODY_PAUSE) {
        r->paused = true;
        return CURL_READFUNC_PAUSE;
    }
    if (n < 0) {
        cc_error_set(&r->err, CC_ERR_IO, "reading the body of %s %s failed", r->method, r->path);
        return CURL_READFUNC_ABORT;
    }
    return (size_t)n;
}

/* Builds the easy handle and hands it to the multi handle. */
static void req_start(struct engine_request *r)
{
    struct engine_client *c = r->c;
    struct buf url = BUF_INIT;
    buf_adds(&url, c->base_url);
    if (!r->unversioned)
        buf_printf(&url, "/v%s", c->api_version);
    buf_adds(&url, r->path);

    if (c->kind == ENGINE_PODMAN && !r->unversioned) {
        /* Requests wait here for negotiation, so this is the first point that knows the engine. */
        char *body = engine_podman_fix_create(r->path, r->body);
        if (body) {
            free(r->body);
            r->body = body;
            r->body_len = strlen(body);
        }
        if (r->mode == ENGINE_RESP_JSON_LINES && !strncmp(r->path, "/events", 7) && !r->health_seen)
            r->health_seen = json_object();
        if (r->mode == ENGINE_RESP_JSON_LINES && !strncmp(r->path, "/images/create", 14) &&
            !r->pull_done)
            r->pull_done = json_object();
        long long until_ns = 0;
        char *events_path = engine_podman_fix_events_path(r->path, &until_ns);
        if (events_path) {
            r->until_ns = until_ns;
            free(r->path);
            r->path = events_path;
            buf_reset(&url);
            buf_printf(&url, "%s/v%s%s", c->base_url, c->api_version, r->path);
        }
    }
    CURL *e = curl_easy_init();
    if (!e) {
        cc_error_set(&r->err, CC_ERR_FAILED, "cannot make an HTTP request handle");
        buf_release(&url);
        req_complete(r, CURLE_OK);
        return;
    }
    r->easy = e;
    curl_easy_setopt(e, CURLOPT_URL, url.data);
    buf_release(&url);
    if (c->unix_path)
        curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, c->unix_path);
    if (c->tls) {
        /* As the docker CLI: with DOCKER_TLS_VERIFY the engine's certificate must chain to ca.pem
         * and name the host; with DOCKER_TLS alone it is not checked. */
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
        if (c->tls_ca)
            curl_easy_setopt(e, CURLOPT_CAINFO, c->tls_ca);
        if (c->tls_cert && c->tls_key) {
            curl_easy_setopt(e, CURLOPT_SSLCERT, c->tls_cert);
            curl_easy_setopt(e, CURLOPT_SSLKEY, c->tls_key);
        }
    }
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_curl_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_curl_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "ccompose/" CCOMPOSE_VERSION);
    if (!strcmp(r->method, "HEAD"))
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    if (!r->streaming)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                         r->timeout_ms > 0 ? r->timeout_ms : c->request_timeout_ms);
    if (r->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
    } else if (r->read_body) {
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_curl_read);
        curl_easy_setopt(e, CURLOPT_READDATA, r);
    } else if (strcmp(r->method, "POST") == 0) {
        /* An empty POST still needs Content-Length: 0, or the engine waits for a body. */
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    /* POSTFIELDS and UPLOAD switch the method; CUSTOMREQUEST puts the verb back on the wire. */
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    req_set_state(r, REQ_RUNNING);
    CURLMcode mc = curl_multi_add_handle(c->multi, e);
    if (mc != CURLM_OK) {
        cc_error_set(&r->err, CC_ERR_FAILED, "cannot start %s %s: %s", r->method, r->path,
                     curl_multi_strerror(mc));
        req_complete(r, CURLE_OK);
    }
}

/* Streams (events, logs -f, attach, wait, build, pull) last as long as what they follow, so only
 * the other calls count against the limit: otherwise a few followed logs would starve every
 * short call. A call over the limit is held, and started oldest first as slots free up. */
static void req_try_start(struct engine_request *r)
{
    struct engine_client *c = r->c;
    bool counts = c->limit > 0 && !r->streaming && !r->is_ping;
    if (counts && (c->limited >= c->limit || (c->held > 0 && !r->held))) {
        if (!r->held) {
            r->held = true;
            c->held++;
        }
        return;
    }
    if (r->held) {
        r->held = false;
        c->held--;
    }
    if (counts) {
        r->counted = true;
        c->limited++;
    }
    req_start(r);
}

/* Starts held calls, oldest first, while the limit allows. */
static void start_held(struct engine_client *c)
{
    if (c->held == 0 || c->limited >= c->limit)
        return;
    size_t n = 0;
    for (struct engine_request *r = c->requests; r; r = r->next)
        n += r->held && !r->cancelled;
    struct engine_request **list = xcalloc(n ? n : 1, sizeof(*list));
    n = 0;
    for (struct engine_request *r = c->requests; r; r = r->next)
        if (r->held && !r->cancelled)
            list[n++] = r;
    /* The list is newest first. */
    while (n > 0 && c->limited < c->limit)
        req_try_start(list[--n]);
    free(list);
}

/* ---- Negotiation -------------------------------------------------------------------------- */

static struct engine_request *submit(struct engine_client *c, const struct engine_call *call,
                                     bool is_ping, engine_cb cb, void *data);

static void start_negotiation(struct engine_client *c)
{
    struct engine_call ping = {.method = "GET", .path = "/_ping", .unversioned = true};
    c->neg = NEG_RUNNING;
    submit(c, &ping, true, NULL, NULL);
}

/* The first ping's answer decides the version every queued and later request uses. */
static void negotiated(struct engine_client *c, struct engine_request *ping,
                       const struct cc_error *ping_err)
{
    struct cc_error err = CC_ERROR_INIT;
    if (ping_err) {
        cc_error_copy(&err, ping_err);
    } else {
        const char *v = ping->hdr_api_version;
        if (!v || !*v) {
            /* Engines before API 1.25 send no version; they are too old for us anyway. */
            cc_error_set(&err, CC_ERR_UNSUPPORTED, "the engine at %s did not say its API version",
                         c->host);
        } else if (engine_version_compare(v, ENGINE_API_MIN) < 0) {
            cc_error_set(&err, CC_ERR_UNSUPPORTED,
                         "the engine at %s speaks API %s; ccompose needs %s or newer", c->host, v,
                         ENGINE_API_MIN);
            cc_error_hint(&err, "upgrade the engine (Docker 20.10 or newer)");
        } else {
            snprintf(c->api_version, sizeof(c->api_version), "%s",
                     engine_version_compare(v, ENGINE_API_MAX) > 0 ? ENGINE_API_MAX : v);
            c->kind = ping->hdr_libpod_version ? ENGINE_PODMAN : ENGINE_DOCKER;
        }
    }
    if (err.kind == CC_ERR_NONE) {
        c->neg = NEG_DONE;
        log_debug("%s: %s speaks API %s, using %s", __func__, c->host, ping->hdr_api_version,
                  c->api_version);
    } else {
        /* Not remembered: the next request tries again, so an engine that comes up later is
         * found. */
        c->neg = NEG_NONE;
    }
    /* Requests queued behind the ping: start them, or fail them with the ping's error. Walk a
     * snapshot, since completing one may submit more. */
    size_t n = 0;
    for (struct engine_request *r = c->requests; r; r = r->next)
        if (r->state == REQ_QUEUED && !r->is_ping)
            n++;
    struct engine_request **list = xcalloc(n ? n : 1, sizeof(*list));
    n = 0;
    for (struct engine_request *r = c->requests; r; r = r->next)
        if (r->state == REQ_QUEUED && !r->is_ping)
            list[n++] = r;
    for (size_t i = n; i-- > 0;) {
        if (err.kind == CC_ERR_NONE) {
            req_try_start(list[i]);
        } else {
            cc_error_copy(&list[i]->err, &err);
            req_complete(list[i], CURLE_OK);
        }
    }
    free(list);
    cc_error_release(&err);
}

/* ---- Submission and cancellation ------------------------------------------------------------ */

static struct engine_request *submit(struct engine_client *c, const struct engine_call *call,
                                     bool is_ping, engine_cb cb, void *data)
{
    struct engine_request *r = xcalloc(1, sizeof(*r));
    r->c = c;
    r->state = REQ_QUEUED;
    r->method = xstrdup(call->method);
    r->path = xstrdup(call->path);
    r->unversioned = call->unversioned;
    r->is_ping = is_ping;
    r->mode = call->mode;
    r->on_item = call->on_item;
    r->on_output = call->on_output;
    r->on_chunk = call->on_chunk;
    r->path_stat = call->path_stat;
    r->item_errors = call->item_errors;
    r->streaming = call->streaming;
    r->timeout_ms = call->timeout_ms;
    r->read_body = call->read_body;
    r->read_data = call->read_data;
    r->cb = cb;
    r->data = data;
    buf_init(&r->resp);
    engine_jsonl_init(&r->jsonl, on_stream_item, r);
    engine_mux_init(&r->mux, on_stream_output, r);
    if (call->body) {
        r->body = json_dumps(call->body, JSON_COMPACT);
        r->body_len = strlen(r->body);
        r->headers = curl_slist_append(r->headers, "Content-Type: application/json");
    } else if (call->read_body) {
        char *ct = xasprintf("Content-Type: %s",
                             call->content_type ? call->content_type : "application/octet-stream");
        r->headers = curl_slist_append(r->headers, ct);
        free(ct);
    }
    /* curl would otherwise wait a second for "100 Continue" before sending a large body. */
    r->headers = curl_slist_append(r->headers, "Expect:");
    for (size_t i = 0; i < CC_ARRAY_LEN(call->headers) && call->headers[i]; i++)
        r->headers = curl_slist_append(r->headers, call->headers[i]);

    r->next = c->requests;
    if (c->requests)
        c->requests->prev = r;
    c->requests = r;

    if (c->in_curl && (is_ping || call->unversioned || c->neg == NEG_DONE)) {
        /* Made from a stream callback: curl refuses new handles from inside its own callbacks
         * (CURLM_RECURSIVE_API_CALL), so start it from the loop right after. */
        r->start_deferred = true;
        uv_timer_start(&c->defer, on_defer, 0, 0);
    } else if (is_ping || call->unversioned || c->neg == NEG_DONE) {
        req_try_start(r);
    } else if (c->neg == NEG_NONE) {
        start_negotiation(c);
    }
    return r;
}

struct engine_request *engine_call_submit(struct engine_client *c, const struct engine_call *call,
                                          engine_cb cb, void *data, struct cc_error *reterr)
{
    if (c->freeing) {
        cc_error_set(reterr, CC_ERR_CANCELLED, "the engine client is closing");
        return NULL;
    }
    if (!call->method || !call->path || call->path[0] != '/') {
        cc_error_set(reterr, CC_ERR_FAILED, "malformed engine call '%s'",
                     call->path ? call->path : "(null)");
        return NULL;
    }
    if (call->body && call->read_body) {
        cc_error_set(reterr, CC_ERR_FAILED, "engine call %s has two bodies", call->path);
        return NULL;
    }
    return submit(c, call, !strcmp(call->path, "/_ping"), cb, data);
}

/* Takes a running request out of curl (never from inside a curl callback). */
static void req_detach(struct engine_request *r)
{
    if (r->state == REQ_RUNNING && r->easy)
        curl_multi_remove_handle(r->c->multi, r->easy);
}

static void client_close(struct engine_client *c);
static void check_info(struct engine_client *c);

static void on_defer(uv_timer_t *t)
{
    struct engine_client *c = t->data;
    struct engine_request *r = c->requests;
    while (r) {
        struct engine_request *next = r->next;
        if (r->cancelled && r->state != REQ_DONE) {
            req_detach(r);
            req_complete(r, CURLE_OK);
            next = c->requests; /* the callback may have changed the list: start over */
        } else if (r->start_deferred) {
            r->start_deferred = false;
            req_try_start(r);
            next = c->requests;
        } else if (r->resume_wanted) {
            log_debug("%s: %s %s: resuming", __func__, r->method, r->path);
            r->resume_wanted = false;
            r->paused = false;
            /* Unpausing may deliver the held chunk at once, from inside this call. */
            c->in_curl = true;
            curl_easy_pause(r->easy, CURLPAUSE_CONT);
            c->in_curl = false;
            check_info(c);
            next = c->requests;
        }
        r = next;
    }
    if (!c->freeing)
        start_held(c);
    if (c->freeing && !c->requests)
        client_close(c);
}

void engine_request_resume(struct engine_request *req)
{
    if (!req || !req->paused || req->resume_wanted || req->cancelled || req->state != REQ_RUNNING)
        return;
    req->resume_wanted = true;
    uv_timer_start(&req->c->defer, on_defer, 0, 0);
}

void engine_request_cancel(struct engine_request *req)
{
    if (!req || req->cancelled || req->state == REQ_DONE)
        return;
    req->cancelled = true;
    uv_timer_start(&req->c->defer, on_defer, 0, 0);
}

/* ---- curl <-> libuv ---------------------------------------------------------------------- */

struct sock_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    struct engine_client *c;
    struct sock_ctx *prev, *next;
};

static void check_info(struct engine_client *c)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct engine_request *r = NULL;
        CURLcode code = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        curl_multi_remove_handle(c->multi, msg->easy_handle);
        if (r->status == 0)
            curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
        req_complete(r, code);
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct sock_ctx *s = h->data;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    struct engine_client *c = s->c;
    c->in_curl = true;
    curl_multi_socket_action(c->multi, s->fd, flags, &running);
    c->in_curl = false;
    check_info(c);
}

static void on_poll_closed(uv_handle_t *h)
{
    free(h->data);
}

/* Stops watching a socket; the context is freed once libuv has closed its handle. */
static void sock_close(struct sock_ctx *s)
{
    struct engine_client *c = s->c;
    if (s->prev)
        s->prev->next = s->next;
    else
        c->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_poll_closed);
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    struct engine_client *c = userp;
    struct sock_ctx *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(c->multi, fd, NULL);
            sock_close(s);
        }
        return 0;
    }
    if (!s) {
        s = xcalloc(1, sizeof(*s));
        s->fd = fd;
        s->c = c;
        if (uv_poll_init_socket(c->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        s->next = c->socks;
        if (c->socks)
            c->socks->prev = s;
        c->socks = s;
        curl_multi_assign(c->multi, fd, s);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

static void on_curl_timeout(uv_timer_t *t)
{
    struct engine_client *c = t->data;
    int running;
    c->in_curl = true;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    c->in_curl = false;
    check_info(c);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct engine_client *c = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&c->curl_timer);
    else
        uv_timer_start(&c->curl_timer, on_curl_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- The client ---------------------------------------------------------------------------- */

static int parse_host(struct engine_client *c, const char *host, struct cc_error *reterr)
{
    if (strncmp(host, "unix://", 7) == 0 && host[7]) {
        c->unix_path = xstrdup(host + 7);
        c->base_url = xstrdup("http://localhost");
        return 0;
    }
    if (strncmp(host, "tcp://", 6) == 0 && host[6]) {
        const char *hp = host + 6;
        size_t len = strcspn(hp, "/");
        c->base_url = xasprintf("%s://%.*s", c->tls ? "https" : "http", (int)len, hp);
        return 0;
    }
    if (strncmp(host, "http://", 7) == 0 && host[7]) {
        c->base_url = xstrdup(host);
        size_t n = strlen(c->base_url);
        while (n > 7 && c->base_url[n - 1] == '/')
            c->base_url[--n] = '\0';
        return 0;
    }
    cc_error_set(reterr, CC_ERR_USAGE, "cannot use engine address '%s'", host);
    cc_error_hint(reterr, "give unix:///path/to/socket or tcp://host:port");
    return -1;
}

static bool env_set(const char *name)
{
    const char *v = getenv(name);
    return v && *v;
}

/* One of the TLS files in c->tls_dir: its path (new) when it is readable; NULL when it is not,
 * and then an error too when it is required. */
static char *tls_file(struct engine_client *c, const char *name, bool required,
                      struct cc_error *reterr)
{
    char *path = xasprintf("%s/%s", c->tls_dir, name);
    if (access(path, R_OK) == 0)
        return path;
    if (required) {
        cc_error_set(reterr, CC_ERR_USAGE, "cannot read the TLS file '%s' for %s: %s", path,
                     c->host, strerror(errno));
        cc_error_hint(reterr, "set DOCKER_CERT_PATH to the directory holding ca.pem, cert.pem and "
                              "key.pem, or unset DOCKER_TLS_VERIFY to speak plain HTTP");
    }
    free(path);
    return NULL;
}

/* The docker CLI's TLS settings for a tcp:// host: DOCKER_TLS_VERIFY (any value) turns TLS on and
 * checks the engine against DOCKER_CERT_PATH/ca.pem; DOCKER_TLS alone turns it on unchecked. The
 * client certificate (cert.pem with key.pem) is sent when it is there. DOCKER_CERT_PATH defaults
 * to the Docker configuration directory. */
static int tls_setup(struct engine_client *c, struct cc_error *reterr)
{
    if (strncmp(c->host, "tcp://", 6) != 0)
        return 0;
    c->tls_verify = env_set("DOCKER_TLS_VERIFY");
    c->tls = c->tls_verify || env_set("DOCKER_TLS");
    if (!c->tls)
        return 0;
    const char *dir = getenv("DOCKER_CERT_PATH");
    if (dir && *dir)
        c->tls_dir = xstrdup(dir);
    else if (env_set("DOCKER_CONFIG"))
        c->tls_dir = xstrdup(getenv("DOCKER_CONFIG"));
    else
        c->tls_dir = xasprintf("%s/.docker", env_set("HOME") ? getenv("HOME") : "");
    if (c->tls_verify && !(c->tls_ca = tls_file(c, "ca.pem", true, reterr)))
        return -1;
    c->tls_cert = tls_file(c, "cert.pem", false, NULL);
    c->tls_key = tls_file(c, "key.pem", c->tls_cert != NULL, reterr);
    if (c->tls_cert && !c->tls_key)
        return -1;
    return 0;
}

static void client_strings_free(struct engine_client *c)
{
    free(c->host);
    free(c->unix_path);
    free(c->base_url);
    free(c->tls_ca);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->tls_dir);
}

static int curl_global_ready(struct cc_error *reterr)
{
    static bool done;
    if (done)
        return 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return cc_error_set(reterr, CC_ERR_FAILED, "cannot initialise libcurl");
    done = true;
    return 0;
}

int engine_client_new(uv_loop_t *loop, const struct engine_options *opts,
                      struct engine_client **ret_client, struct cc_error *reterr)
{
    if (curl_global_ready(reterr) < 0)
        return -1;
    const char *host = opts && opts->host && *opts->host ? opts->host : getenv("DOCKER_HOST");
    if (!host || !*host)
        host = DEFAULT_HOST;

    struct engine_client *c = xcalloc(1, sizeof(*c));
    c->loop = loop;
    c->host = xstrdup(host);
    c->connect_timeout_ms = opts && opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
                                                                 : DEFAULT_CONNECT_TIMEOUT_MS;
    c->request_timeout_ms =
        opts && opts->request_timeout_ms > 0 ? opts->request_timeout_ms : ENGINE_DEFAULT_TIMEOUT_MS;
    c->limit = opts && opts->max_in_flight > 0 ? opts->max_in_flight : 0;
    if (tls_setup(c, reterr) < 0 || parse_host(c, host, reterr) < 0) {
        client_strings_free(c);
        free(c);
        return -1;
    }
    c->multi = curl_multi_init();
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    uv_timer_init(loop, &c->curl_timer);
    c->curl_timer.data = c;
    uv_timer_init(loop, &c->defer);
    c->defer.data = c;
    c->open_handles = 2;
    *ret_client = c;
    return 0;
}

static void on_client_handle_closed(uv_handle_t *h)
{
    struct engine_client *c = h->data;
    if (--c->open_handles == 0) {
        client_strings_free(c);
        free(c);
    }
}

/* Connections that curl keeps for reuse are still watched: stop watching them before curl closes
 * their sockets, and tell curl to forget our contexts so its last REMOVE calls touch nothing. */
static void close_socket_watchers(struct engine_client *c)
{
    while (c->socks) {
        struct sock_ctx *s = c->socks;
        curl_multi_assign(c->multi, s->fd, NULL);
        sock_close(s);
    }
}

/* The last step of engine_client_free(), once no request is left. */
static void client_close(struct engine_client *c)
{
    close_socket_watchers(c);
    curl_multi_cleanup(c->multi);
    c->multi = NULL;
    uv_timer_stop(&c->curl_timer);
    uv_close((uv_handle_t *)&c->curl_timer, on_client_handle_closed);
    uv_close((uv_handle_t *)&c->defer, on_client_handle_closed);
}

void engine_client_free(struct engine_client *c)
{
    if (!c || c->freeing)
        return;
    c->freeing = true;
    /* Only marks: this may run inside one of curl's callbacks (a stream item's), where handles
     * must not be removed. on_defer completes the requests and then closes the client. */
    for (struct engine_request *r = c->requests; r; r = r->next)
        r->cancelled = true;
    uv_timer_start(&c->defer, on_defer, 0, 0);
}

int engine_client_in_flight(const struct engine_client *c, int *ret_held)
{
    if (ret_held)
        *ret_held = c->held;
    return c->limited;
}

const char *engine_client_host(const struct engine_client *c)
{
    return c->host;
}

const char *engine_client_api_version(const struct engine_client *c)
{
    return c->neg == NEG_DONE ? c->api_version : NULL;
}

enum engine_kind engine_client_kind(const struct engine_client *c)
{
    return c->kind;
}

uv_loop_t *engine_client_loop(const struct engine_client *c)
{
    return c->loop;
}

const char *engine_client_unix_path(const struct engine_client *c)
{
    return c->unix_path;
}

const char *engine_client_base_url(const struct engine_client *c)
{
    return c->base_url;
}

bool engine_client_tls(const struct engine_client *c)
{
    return c->tls;
}

void engine_client_tls_settings(const struct engine_client *c, struct engine_tls_settings *ret)
{
    *ret = (struct engine_tls_settings){.verify = c->tls_verify,
                                        .ca = c->tls_ca,
                                        .cert = c->tls_cert,
                                        .key = c->tls_key,
                                        .dir = c->tls_dir,
                                        .host = c->host};
}

long engine_client_connect_timeout_ms(const struct engine_client *c)
{
    return c->connect_timeout_ms;
}
