/*
 * worker: moves votes from Redis to PostgreSQL, neither losing nor double-counting any.
 *
 * The vote front-end RPUSHes each vote as JSON ({"voter_id", "vote", "time"}) onto the Redis list
 * 'votes'. This worker takes them with BLMOVE into 'votes:processing' (a reliable queue: an item
 * is never only in the worker's memory), upserts it into PostgreSQL keyed by voter id, and only
 * then LREMs it from 'votes:processing'. On every (re)connection it first replays what is left
 * in 'votes:processing'. A crash anywhere therefore at worst replays a vote that was already
 * stored; the upsert makes that harmless: a row is only overwritten by a vote whose time is newer
 * (or equal, with a different choice: then the later push wins), so a replay never lets an older
 * vote win over a voter's later one and changes nothing when replaying the stored vote itself;
 * one voter is always one row. PostgreSQL parses the JSON; an item it rejects as data (SQLSTATE
 * classes 22 and 23) is moved to 'votes:dead' instead of blocking the queue.
 *
 * Either store going away (connection refused, reset, LOADING, admin shutdown) means reconnecting
 * with capped exponential backoff; anything else is unrecoverable and exits 1 so the restart
 * policy applies. Each loop iteration (at least once a second, the BLMOVE timeout) touches a
 * heartbeat file that `worker --check-heartbeat SECONDS` checks for the container health check.
 * One line per event goes to stdout.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#define QUEUE_KEY        "votes"
#define PROCESSING_KEY   "votes:processing"
#define DEAD_KEY         "votes:dead"
#define BLMOVE_TIMEOUT   "1"
#define BACKOFF_START_MS 100
#define BACKOFF_CAP_MS   5000
#define PASSWORD_MAX     4096
#define LOG_ITEM_MAX     160

/* What a step tells the main loop: carry on, reconnect and replay, or give up. */
enum step_result { STEP_OK = 0, STEP_RETRY = -1, STEP_FATAL = -2 };

/* What PostgreSQL made of one item. */
enum store_outcome { STORE_INSERTED, STORE_UPDATED, STORE_UNCHANGED, STORE_REJECTED };

struct worker_config {
    const char *redis_host;
    int redis_port;
    const char *db_host;
    const char *db_port;
    const char *db_user;
    const char *db_name;
    const char *password_file;
    const char *heartbeat_path;
    char *db_password; /* new, from password_file */
};

struct worker {
    struct worker_config cfg;
    redisContext *redis; /* NULL while disconnected */
    PGconn *db;          /* NULL while disconnected */
    unsigned backoff_ms;
    unsigned long moved;
};

/* Set from the signal handler; the loop checks it at least once a second. */
static volatile sig_atomic_t stop_requested;

static const char *const upsert_sql =
    "INSERT INTO votes (id, vote, ts) "
    "SELECT item->>'voter_id', item->>'vote', (item->>'time')::timestamptz "
    "FROM (SELECT $1::jsonb AS item) AS incoming "
    "ON CONFLICT (id) DO UPDATE SET vote = EXCLUDED.vote, ts = EXCLUDED.ts "
    "WHERE votes.ts < EXCLUDED.ts OR (votes.ts = EXCLUDED.ts AND votes.vote <> EXCLUDED.vote) "
    "RETURNING id, vote, (xmax = 0) AS inserted";

static const char *const schema_sql = "CREATE TABLE IF NOT EXISTS votes ("
                                      "id text PRIMARY KEY, "
                                      "vote text NOT NULL CHECK (vote IN ('a', 'b')), "
                                      "ts timestamptz NOT NULL)";

static void log_event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void log_event(const char *fmt, ...)
{
    va_list ap;

    fputs("worker: ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);

    return v != NULL && *v != '\0' ? v : fallback;
}

/* Reads the first line of path into *ret_password (new); -1 with a logged reason on failure. */
static int read_password(const char *path, char **ret_password)
{
    char buf[PASSWORD_MAX + 1];
    size_t n;
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        log_event("cannot open password file '%s': %s", path, strerror(errno));
        return -1;
    }
    n = fread(buf, 1, PASSWORD_MAX, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (buf[0] == '\0') {
        log_event("password file '%s' is empty", path);
        return -1;
    }
    *ret_password = strdup(buf);
    if (*ret_password == NULL)
        abort();
    return 0;
}

/* The health check: exit status 0 when the heartbeat file is at most max_age seconds old. */
static int check_heartbeat(const char *path, const char *max_age_arg)
{
    struct stat st;
    char *end;
    long max_age = strtol(max_age_arg, &end, 10);
    time_t age;

    if (*end != '\0' || max_age <= 0) {
        fprintf(stderr, "worker: invalid heartbeat age '%s'\n", max_age_arg);
        return 2;
    }
    if (stat(path, &st) != 0) {
        fprintf(stderr, "worker: no heartbeat at '%s': %s\n", path, strerror(errno));
        return 1;
    }
    age = time(NULL) - st.st_mtime;
    if (age > max_age) {
        fprintf(stderr, "worker: heartbeat is %lds old (limit %lds)\n", (long)age, max_age);
        return 1;
    }
    return 0;
}

static void touch_heartbeat(const struct worker *w)
{
    int fd = open(w->cfg.heartbeat_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

    if (fd < 0) {
        log_event("cannot touch heartbeat '%s': %s, ignoring", w->cfg.heartbeat_path,
                  strerror(errno));
        return;
    }
    if (futimens(fd, NULL) != 0)
        log_event("cannot touch heartbeat '%s': %s, ignoring", w->cfg.heartbeat_path,
                  strerror(errno));
    close(fd);
}

static void drop_redis(struct worker *w, const char *why)
{
    if (w->redis == NULL)
        return;
    log_event("redis connection lost: %s", why);
    redisFree(w->redis);
    w->redis = NULL;
}

static void drop_db(struct worker *w, const char *why)
{
    if (w->db == NULL)
        return;
    log_event("postgres connection lost: %s", why);
    PQfinish(w->db);
    w->db = NULL;
}

static int connect_redis(struct worker *w)
{
    struct timeval timeout = {5, 0};
    redisContext *c = redisConnectWithTimeout(w->cfg.redis_host, w->cfg.redis_port, timeout);

    if (c == NULL || c->err) {
        log_event("redis unreachable at %s:%d: %s", w->cfg.redis_host, w->cfg.redis_port,
                  c != NULL ? c->errstr : "out of memory");
        redisFree(c);
        return STEP_RETRY;
    }
    /* Replies to BLMOVE come within its 1 s timeout; 5 s without one means a dead peer. */
    if (redisSetTimeout(c, timeout) != REDIS_OK || redisEnableKeepAlive(c) != REDIS_OK) {
        log_event("redis socket setup failed: %s", c->errstr);
        redisFree(c);
        return STEP_RETRY;
    }
    w->redis = c;
    log_event("connected to redis at %s:%d", w->cfg.redis_host, w->cfg.redis_port);
    return STEP_OK;
}

/* A statement failed: a lost connection or a server going down is worth a retry, else fatal. */
static int db_failure(struct worker *w, PGresult *res, const char *what)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    int lost = PQstatus(w->db) != CONNECTION_OK || state == NULL || strncmp(state, "08", 2) == 0 ||
               strncmp(state, "57", 2) == 0 || strncmp(state, "53", 2) == 0 ||
               strncmp(state, "40", 2) == 0;
    char msg[512];

    snprintf(msg, sizeof(msg), "%s failed (%s): %s", what, state != NULL ? state : "no sqlstate",
             PQerrorMessage(w->db));
    msg[strcspn(msg, "\n")] = '\0';
    if (!lost) {
        log_event("%s", msg);
        return STEP_FATAL;
    }
    drop_db(w, msg);
    return STEP_RETRY;
}

static int connect_db(struct worker *w)
{
    const char *keys[] = {"host",
                          "port",
                          "user",
                          "password",
                          "dbname",
                          "connect_timeout",
                          "keepalives",
                          "keepalives_idle",
                          "application_name",
                          NULL};
    const char *vals[] = {w->cfg.db_host,
                          w->cfg.db_port,
                          w->cfg.db_user,
                          w->cfg.db_password,
                          w->cfg.db_name,
                          "5",
                          "1",
                          "10",
                          "voting-worker",
                          NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 0);
    PGresult *res;
    char *msg;

    if (PQstatus(conn) != CONNECTION_OK) {
        msg = PQerrorMessage(conn);
        msg[strcspn(msg, "\n")] = '\0';
        log_event("postgres unreachable at %s:%s: %s", w->cfg.db_host, w->cfg.db_port, msg);
        PQfinish(conn);
        return STEP_RETRY;
    }
    w->db = conn;
    res = PQexec(conn, schema_sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        int rc = db_failure(w, res, "creating table 'votes'");

        PQclear(res);
        return rc;
    }
    PQclear(res);
    log_event("connected to postgres at %s:%s, table 'votes' ready", w->cfg.db_host,
              w->cfg.db_port);
    return STEP_OK;
}

/*
 * Checks a Redis reply: NULL means the connection broke, LOADING and shutdown errors mean Redis
 * is (re)starting; both are retried. Any other error reply or an unexpected type is fatal.
 * Frees the reply when it is not STEP_OK.
 */
static int redis_check(struct worker *w, redisReply *reply, int type, int alt_type,
                       const char *what)
{
    char msg[512];

    if (reply == NULL) {
        snprintf(msg, sizeof(msg), "%s: %s", what, w->redis->err ? w->redis->errstr : "no reply");
        drop_redis(w, msg);
        return STEP_RETRY;
    }
    if (reply->type == type || reply->type == alt_type)
        return STEP_OK;
    if (reply->type == REDIS_REPLY_ERROR) {
        /* Redis loading its data after a restart, or shutting down, is a store going away. */
        int transient = strncmp(reply->str, "LOADING", 7) == 0 ||
                        strncmp(reply->str, "MASTERDOWN", 10) == 0 ||
                        strncmp(reply->str, "BUSY", 4) == 0;

        snprintf(msg, sizeof(msg), "%s: %s", what, reply->str);
        freeReplyObject(reply);
        if (transient) {
            drop_redis(w, msg);
            return STEP_RETRY;
        }
        log_event("%s", msg);
        return STEP_FATAL;
    }
    log_event("%s: unexpected reply type %d", what, reply->type);
    freeReplyObject(reply);
    return STEP_FATAL;
}

static void log_item(const char *prefix, const char *item, size_t len)
{
    int shown = len > LOG_ITEM_MAX ? LOG_ITEM_MAX : (int)len;

    log_event("%s %.*s%s", prefix, shown, item, len > LOG_ITEM_MAX ? "..." : "");
}

/* Upserts one item; *ret_outcome says what happened when STEP_OK. */
static int store_vote(struct worker *w, const char *item, enum store_outcome *ret_outcome,
                      char *voter, size_t voter_size, char *vote, size_t vote_size)
{
    const char *params[] = {item};
    PGresult *res = PQexecParams(w->db, upsert_sql, 1, NULL, params, NULL, NULL, 0);
    const char *state;
    int rc;

    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        if (PQntuples(res) == 0) {
            *ret_outcome = STORE_UNCHANGED;
        } else {
            snprintf(voter, voter_size, "%s", PQgetvalue(res, 0, 0));
            snprintf(vote, vote_size, "%s", PQgetvalue(res, 0, 1));
            *ret_outcome = strcmp(PQgetvalue(res, 0, 2), "t") == 0 ? STORE_INSERTED : STORE_UPDATED;
        }
        PQclear(res);
        return STEP_OK;
    }
    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (PQstatus(w->db) == CONNECTION_OK && state != NULL &&
        (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)) {
        snprintf(vote, vote_size, "%s", state);
        *ret_outcome = STORE_REJECTED;
        PQclear(res);
        return STEP_OK;
    }
    rc = db_failure(w, res, "storing vote");
    PQclear(res);
    return rc;
}

/* Stores one item taken from the processing list, then removes it from there. */
static int process_item(struct worker *w, const char *item, size_t len, int replayed)
{
    enum store_outcome outcome;
    char voter[80] = "", vote[16] = "";
    redisReply *reply;
    int rc = store_vote(w, item, &outcome, voter, sizeof(voter), vote, sizeof(vote));

    if (rc != STEP_OK)
        return rc;

    if (outcome == STORE_REJECTED) {
        /* Dead-letter and remove in one transaction so the item is never in neither list. */
        redisAppendCommand(w->redis, "MULTI");
        redisAppendCommand(w->redis, "RPUSH %s %b", DEAD_KEY, item, len);
        redisAppendCommand(w->redis, "LREM %s 1 %b", PROCESSING_KEY, item, len);
        redisAppendCommand(w->redis, "EXEC");
        for (int i = 0; i < 4; i++) {
            if (redisGetReply(w->redis, (void **)&reply) != REDIS_OK)
                reply = NULL;
            rc = redis_check(w, reply, i == 3 ? REDIS_REPLY_ARRAY : REDIS_REPLY_STATUS,
                             i == 3 ? REDIS_REPLY_NIL : REDIS_REPLY_STATUS, "dead-lettering");
            if (rc != STEP_OK)
                return rc;
            freeReplyObject(reply);
        }
        snprintf(voter, sizeof(voter), "rejected by postgres (%s), moved to '%s':", vote, DEAD_KEY);
        log_item(voter, item, len);
        return STEP_OK;
    }

    reply = redisCommand(w->redis, "LREM %s 1 %b", PROCESSING_KEY, item, len);
    rc = redis_check(w, reply, REDIS_REPLY_INTEGER, REDIS_REPLY_INTEGER, "LREM");
    if (rc != STEP_OK)
        return rc;
    if (reply->integer != 1)
        log_event("item was no longer in '%s', ignoring", PROCESSING_KEY);
    freeReplyObject(reply);
    w->moved++;

    if (outcome == STORE_UNCHANGED)
        log_item(replayed ? "replayed, already stored or older than the stored vote:"
                          : "already stored or older than the stored vote, ignored:",
                 item, len);
    else
        log_event("%s vote '%s' for voter %s (%s)", replayed ? "replayed" : "stored", vote, voter,
                  outcome == STORE_INSERTED ? "new voter" : "updated");
    return STEP_OK;
}

/* Replays whatever a previous run (or a broken connection) left in the processing list. */
static int replay_processing(struct worker *w)
{
    unsigned long replayed = 0;
    redisReply *reply;
    int rc;

    for (;;) {
        reply = redisCommand(w->redis, "LINDEX %s 0", PROCESSING_KEY);
        rc = redis_check(w, reply, REDIS_REPLY_STRING, REDIS_REPLY_NIL, "LINDEX");
        if (rc != STEP_OK)
            return rc;
        if (reply->type == REDIS_REPLY_NIL) {
            freeReplyObject(reply);
            break;
        }
        rc = process_item(w, reply->str, reply->len, 1);
        freeReplyObject(reply);
        if (rc != STEP_OK)
            return rc;
        replayed++;
    }
    log_event("replay done: %lu vote(s) left in '%s' by an earlier run", replayed, PROCESSING_KEY);
    return STEP_OK;
}

/* Moves votes until a store goes away, an unrecoverable error, or a stop signal. */
static int run_queue(struct worker *w)
{
    redisReply *reply;
    int rc;

    while (!stop_requested) {
        touch_heartbeat(w);
        reply = redisCommand(w->redis, "BLMOVE %s %s LEFT RIGHT %s", QUEUE_KEY, PROCESSING_KEY,
                             BLMOVE_TIMEOUT);
        rc = redis_check(w, reply, REDIS_REPLY_STRING, REDIS_REPLY_NIL, "BLMOVE");
        if (rc != STEP_OK)
            return rc;
        if (reply->type == REDIS_REPLY_NIL) {
            freeReplyObject(reply);
            /* Idle: notice a PostgreSQL restart now rather than at the next vote, so the
             * heartbeat (and the health check) stops while the database is away. Reading what
             * the server sent does not block. */
            if (!PQconsumeInput(w->db) || PQstatus(w->db) != CONNECTION_OK) {
                char msg[256];

                snprintf(msg, sizeof(msg), "while idle: %s", PQerrorMessage(w->db));
                msg[strcspn(msg, "\n")] = '\0';
                drop_db(w, msg);
                return STEP_RETRY;
            }
            continue;
        }
        rc = process_item(w, reply->str, reply->len, 0);
        freeReplyObject(reply);
        if (rc != STEP_OK)
            return rc;
    }
    return STEP_OK;
}

static void backoff(struct worker *w)
{
    struct timespec ts = {w->backoff_ms / 1000, (long)(w->backoff_ms % 1000) * 1000000L};

    log_event("retrying in %u ms", w->backoff_ms);
    /* A stop signal interrupts the wait; the caller checks the flag. */
    nanosleep(&ts, NULL);
    w->backoff_ms = w->backoff_ms * 2 > BACKOFF_CAP_MS ? BACKOFF_CAP_MS : w->backoff_ms * 2;
}

static int load_config(struct worker_config *cfg)
{
    char *end;
    long port;

    cfg->redis_host = env_or("REDIS_HOST", "redis");
    port = strtol(env_or("REDIS_PORT", "6379"), &end, 10);
    if (*end != '\0' || port <= 0 || port > 65535) {
        log_event("invalid REDIS_PORT '%s'", getenv("REDIS_PORT"));
        return -1;
    }
    cfg->redis_port = (int)port;
    cfg->db_host = env_or("DB_HOST", "db");
    cfg->db_port = env_or("DB_PORT", "5432");
    cfg->db_user = env_or("DB_USER", "postgres");
    cfg->db_name = env_or("DB_NAME", "postgres");
    cfg->password_file = env_or("POSTGRES_PASSWORD_FILE", "/run/secrets/db_password");
    cfg->heartbeat_path = env_or("WORKER_HEARTBEAT", "/tmp/worker-heartbeat");
    return read_password(cfg->password_file, &cfg->db_password);
}

int main(int argc, char **argv)
{
    struct worker w = {.backoff_ms = BACKOFF_START_MS};
    struct sigaction sa = {.sa_handler = on_signal};
    int rc = STEP_OK;

    if (argc == 3 && strcmp(argv[1], "--check-heartbeat") == 0)
        return check_heartbeat(env_or("WORKER_HEARTBEAT", "/tmp/worker-heartbeat"), argv[2]);
    if (argc != 1) {
        fprintf(stderr, "usage: worker [--check-heartbeat SECONDS]\n");
        return 2;
    }

    setvbuf(stdout, NULL, _IOLBF, 0);
    /* No SA_RESTART: a stop signal must cut the backoff wait short. */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (load_config(&w.cfg) != 0)
        return 1;
    log_event("starting: redis %s:%d, postgres %s:%s/%s", w.cfg.redis_host, w.cfg.redis_port,
              w.cfg.db_host, w.cfg.db_port, w.cfg.db_name);

    while (!stop_requested) {
        rc = STEP_OK;
        if (w.redis == NULL)
            rc = connect_redis(&w);
        if (rc == STEP_OK && w.db == NULL)
            rc = connect_db(&w);
        /* Every (re)connection replays first: a broken step leaves its item in processing. */
        if (rc == STEP_OK)
            rc = replay_processing(&w);
        if (rc == STEP_OK) {
            w.backoff_ms = BACKOFF_START_MS;
            rc = run_queue(&w);
        }
        if (rc == STEP_FATAL)
            break;
        if (rc == STEP_RETRY && !stop_requested)
            backoff(&w);
    }

    if (rc == STEP_FATAL)
        log_event("unrecoverable error, exiting after %lu vote(s)", w.moved);
    else
        log_event("stopping after %lu vote(s)", w.moved);
    redisFree(w.redis);
    PQfinish(w.db);
    free(w.cfg.db_password);
    return rc == STEP_FATAL ? 1 : 0;
}
