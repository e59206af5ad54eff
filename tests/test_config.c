/* test_config.c - vigil watch's configuration file: the annotated example loads with the
 * values it documents, a file with only the required keys gets config.h's defaults, the
 * value forms (durations, sizes, booleans, integers, "${NAME}") parse, each class of error
 * names the right line and says what is wrong, and truncated or corrupted copies of the
 * example never crash: they load, or fail with "PATH:LINE: problem". */
#include <limits.h>

#include "core/rng.h"
#include "serve/config.h"
#include "serve/config_value.h"
#include "test.h"

#define EXAMPLE VG_SOURCE_DIR "/examples/watch.yaml"
#define SEED 5

/* One camera with its required keys, on lines 1-4; cases append from line 5. */
#define CAM "cameras:\n  - id: a\n    source: s.mp4\n    model: m.safetensors\n"

/* Writes yaml to the temporary folder as name and loads it. */
static int load_text(const char *name, const char *yaml, vg_watch_config **c, vg_error *err) {
    const char *path = test_path(name);
    if (!test_write_file(path, yaml, strlen(yaml))) return -1;
    return vg_watch_config_load(path, c, err);
}

/* The line of msg if it is one line "PATH:LINE: something", else 0. */
static int located(const char *msg, const char *path) {
    size_t n = strlen(path);
    for (const char *c = msg; *c; c++)
        if ((unsigned char)*c < 0x20) return 0;
    if (strncmp(msg, path, n) || msg[n] != ':') return 0;
    char *end;
    long line = strtol(msg + n + 1, &end, 10);
    return end > msg + n + 1 && !strncmp(end, ": ", 2) && end[2] && line > 0 && line < INT_MAX
               ? (int)line : 0;
}

static int str_is(const char *got, const char *want) {
    return got && want ? !strcmp(got, want) : got == want;
}

/* ---- defaults and the example ---------------------------------------------------------- */

/* Everything but the cameras and jsonl at config.h's defaults. */
static void check_top_defaults(const vg_watch_config *c) {
    CHECK(!c->webhook.url && !c->webhook.token);
    CHECK(c->webhook.timeout == 5 && c->webhook.backoff_max == 60);
    CHECK(!c->mqtt.host && c->mqtt.port == 1883 && str_is(c->mqtt.prefix, "vigil"));
    CHECK(!c->mqtt.client_id && !c->mqtt.username && !c->mqtt.password && c->mqtt.scores == 1);
    CHECK(str_is(c->dir, "vigil-data"));
    CHECK(c->max_age == 30 * 86400.0 && c->max_size == 20e9);
    CHECK(c->pre == 5 && c->post == 5);
    CHECK(c->http_port == 8080 && str_is(c->http_bind, "127.0.0.1") && !c->token);
    CHECK(c->batch == 8 && c->queue == 16 && c->threads == 0 && c->bf16 == 0);
}

static void check_camera_defaults(const vg_camera_config *c) {
    CHECK(c->roi[0] == 0 && c->roi[1] == 0 && c->roi[2] == 0 && c->roi[3] == 0);
    CHECK(!c->has_fit && !c->masks && c->n_masks == 0);
    CHECK(isnan(c->threshold) && !c->has_score && c->score == VG_SCORE_PATCH && isnan(c->exit));
    CHECK(c->smooth == -1 && c->debounce == -1 && c->min_duration == -1);
    CHECK(c->merge_gap == -1 && c->update_every == -1);
    CHECK(c->shadow == 0 && c->realtime == 1 && c->loop == 0);
}

static void test_example(void) {
    vg_watch_config *c = NULL;
    vg_error err = {0};
    CHECK_OK(vg_watch_config_load(EXAMPLE, &c, &err), &err);
    if (!c) return;
    CHECK(str_is(c->path, EXAMPLE) && c->n_cameras == 2);
    const vg_camera_config *g = &c->cameras[0];
    CHECK(str_is(g->id, "gate") && str_is(g->source, "footage/gate.mp4"));
    CHECK(str_is(g->model, "models/gate.safetensors"));
    CHECK(g->roi[0] == 0 && g->roi[1] == 40 && g->roi[2] == 360 && g->roi[3] == 200);
    CHECK(g->has_fit && g->fit == VG_FIT_STRETCH && g->n_masks == 2);
    static const double m0[] = {0, 0, 120, 0, 120, 60, 0, 60};
    static const double m1[] = {300, 150, 360, 150, 360, 240};
    CHECK(g->n_masks == 2 && g->masks[0].n == 4 && !memcmp(g->masks[0].xy, m0, sizeof m0));
    CHECK(g->n_masks == 2 && g->masks[1].n == 3 && !memcmp(g->masks[1].xy, m1, sizeof m1));
    CHECK(isnan(g->threshold) && !g->has_score && isnan(g->exit) && g->smooth == -1);
    /* The example writes out the decision defaults: they must be the library's. */
    vg_decide_params d = vg_decide_default_params(VG_EVENT_PREDICTION_ERROR);
    CHECK(g->debounce == d.debounce && g->min_duration == d.min_duration);
    CHECK(g->merge_gap == d.merge_gap && g->update_every == d.update_every);
    CHECK(g->shadow == 0 && g->realtime == 1 && g->loop == 0);
    const vg_camera_config *k = &c->cameras[1];
    CHECK(str_is(k->id, "dock-2") && str_is(k->source, "rtsp://10.0.0.12:554/stream1"));
    CHECK(str_is(k->model, "models/dock.safetensors"));
    check_camera_defaults(k);
    CHECK(str_is(c->jsonl, "-"));
    check_top_defaults(c);
    vg_watch_config_free(c);
    printf("example %-30s loads with the values it documents\n", "examples/watch.yaml");
}

static void test_defaults(void) {
    vg_watch_config *c = NULL;
    vg_error err = {0};
    CHECK_OK(load_text("minimal.yaml", CAM, &c, &err), &err);
    if (!c) return;
    CHECK(c->n_cameras == 1 && str_is(c->cameras[0].id, "a"));
    CHECK(str_is(c->cameras[0].source, "s.mp4") && str_is(c->cameras[0].model, "m.safetensors"));
    check_camera_defaults(&c->cameras[0]);
    CHECK(!c->jsonl);
    check_top_defaults(c);
    vg_watch_config_free(c);
    vg_watch_config_free(NULL);
    printf("defaults: a file with only the required keys gets config.h's\n");
}

/* ---- the value forms -------------------------------------------------------------------- */

static void test_values(void) {
    static const struct { const char *s; double v; } dur[] = {
        {"500ms", 0.5}, {"10s", 10}, {"5m", 300}, {"2h", 7200}, {"30d", 2592000},
        {"1.5h", 5400}, {"10", 10}, {"0.25", 0.25}, {"10 s", 10}, {"0", 0}};
    static const char *const bad_dur[] = {"10x", "s", "", "5M", "inf", "nan", "0x10", "1e999",
                                          "10ms5", "5 minutes", "1.2.3s", "5e"};
    for (size_t i = 0; i < sizeof dur / sizeof *dur; i++) {
        double v = -1;
        CHECK(vg_cfg_duration(dur[i].s, &v) && v == dur[i].v);
    }
    for (size_t i = 0; i < sizeof bad_dur / sizeof *bad_dur; i++) {
        double v;
        CHECK(!vg_cfg_duration(bad_dur[i], &v));
    }
    static const struct { const char *s; double v; } size[] = {
        {"512MB", 512e6}, {"20GB", 20e9}, {"1.5GiB", 1610612736.0}, {"1kib", 1024}, {"100", 100},
        {"3 TB", 3e12}, {"7b", 7}, {"2MiB", 2097152}};
    static const char *const bad_size[] = {"12XB", "GB", "-", "1.5 G", "ten"};
    for (size_t i = 0; i < sizeof size / sizeof *size; i++) {
        double v = -1;
        CHECK(vg_cfg_size(size[i].s, &v) && v == size[i].v);
    }
    for (size_t i = 0; i < sizeof bad_size / sizeof *bad_size; i++) {
        double v;
        CHECK(!vg_cfg_size(bad_size[i], &v));
    }
    int b = -1;
    CHECK(vg_cfg_bool("yes", &b) && b == 1 && vg_cfg_bool("FALSE", &b) && b == 0);
    CHECK(vg_cfg_bool("True", &b) && b == 1 && vg_cfg_bool("no", &b) && b == 0);
    CHECK(!vg_cfg_bool("on", &b) && !vg_cfg_bool("1", &b) && !vg_cfg_bool("", &b));
    long long n = 0;
    CHECK(vg_cfg_int("8", &n) && n == 8 && vg_cfg_int("-3", &n) && n == -3);
    CHECK(vg_cfg_int("+4", &n) && n == 4);
    CHECK(vg_cfg_int("99999999999999999999", &n) && n == LLONG_MAX); /* clamped: out of range */
    CHECK(!vg_cfg_int("8.0", &n) && !vg_cfg_int("0x10", &n) && !vg_cfg_int("", &n));
    CHECK(!vg_cfg_int("1e3", &n) && !vg_cfg_int("-", &n) && !vg_cfg_int(" 8", &n));
    double x = 0;
    CHECK(vg_cfg_number("-0.5", &x) && x == -0.5 && vg_cfg_number("3e-3", &x) && x == 3e-3);
    CHECK(!vg_cfg_number("inf", &x) && !vg_cfg_number("nan", &x) && !vg_cfg_number("1,5", &x));
    printf("values: durations, sizes, booleans, integers and numbers parse or are refused\n");
}

static void test_expand(void) {
    char *buf = NULL;
    size_t cap = 0, at_len = 0;
    const char *at = NULL;
    setenv("VG_TEST_A", "alpha", 1);
    unsetenv("VG_TEST_UNSET");
    CHECK(vg_cfg_expand("x${VG_TEST_A}y${VG_TEST_A}", &buf, &cap, &at, &at_len) == VG_OK &&
          str_is(buf, "xalphayalpha"));
    CHECK(vg_cfg_expand("$${VG_TEST_A} $HOME $", &buf, &cap, &at, &at_len) == VG_OK &&
          str_is(buf, "$alpha $HOME $"));
    CHECK(vg_cfg_expand("", &buf, &cap, &at, &at_len) == VG_OK && str_is(buf, ""));
    const char *s = "a ${VG_TEST_UNSET} b";
    CHECK(vg_cfg_expand(s, &buf, &cap, &at, &at_len) == VG_ERR_MISSING && at == s + 4 &&
          at_len == 13);
    static const char *const bad[] = {"${", "${}", "${1A}", "${A", "x ${A-B}", "${A B}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(vg_cfg_expand(bad[i], &buf, &cap, &at, &at_len) == VG_ERR_FORMAT);
    free(buf);

    /* In a file: any value, strings and numbers alike. */
    setenv("VG_TEST_TOKEN", "s3cret", 1);
    setenv("VG_TEST_PORT", "9090", 1);
    vg_watch_config *c = NULL;
    vg_error err = {0};
    CHECK_OK(load_text("env.yaml",
                       "cameras:\n  - id: a\n    source: rtsp://u:${VG_TEST_TOKEN}@h/x\n"
                       "    model: m\nhttp:\n  port: ${VG_TEST_PORT}\n  bind: 0.0.0.0\n"
                       "  token: ${VG_TEST_TOKEN}\n", &c, &err), &err);
    CHECK(c && str_is(c->cameras[0].source, "rtsp://u:s3cret@h/x"));
    CHECK(c && c->http_port == 9090 && str_is(c->token, "s3cret"));
    vg_watch_config_free(c);
    printf("expand: ${NAME} from the environment, in strings and numbers\n");
}

/* ---- files that load -------------------------------------------------------------------- */

static void test_loads(void) {
    static const struct { const char *what, *yaml; } ok[] = {
        {"null sections and optional values",
         CAM "sinks:\n  jsonl: ~\n  webhook:\nhttp:\nstorage:\n  retention: {}\n"},
        {"token-less HTTP on ::1", CAM "http:\n  bind: \"::1\"\n"},
        {"token-less HTTP on localhost", CAM "http:\n  bind: localhost\n"},
        {"token-less 0.0.0.0 with the server off", CAM "http:\n  port: 0\n  bind: 0.0.0.0\n"},
        {"flow style", "{cameras: [{id: a, source: s, model: m, roi: [1, 2, 3, 4]}], "
                       "engine: {bf16: yes}}"},
        {"a shared decide block", CAM "    decide: &d {debounce: 2, merge_gap: 0}\n"
                                  "  - id: b\n    source: t\n    model: m\n    decide: *d\n"},
        {"units and booleans", CAM "    shadow: yes\n    loop: True\nstorage:\n  retention:\n"
                               "    max_size: 1.5GiB\n    max_age: 0\n  evidence:\n"
                               "    pre: 500ms\n    post: 2.5\n"},
        {"a psnr threshold and exit", CAM "    threshold: 25\n    score: psnr\n"
                                      "    decide:\n      exit: 27\n"}};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        vg_watch_config *c = NULL;
        vg_error err = {0};
        CHECK_OK(load_text("ok.yaml", ok[i].yaml, &c, &err), &err);
        if (c) printf("loads   %s\n", ok[i].what);
        vg_watch_config_free(c);
    }
    vg_watch_config *c = NULL;
    vg_error err = {0};
    CHECK_OK(load_text("ok.yaml", ok[5].yaml, &c, &err), &err);
    CHECK(c && c->n_cameras == 2 && c->cameras[1].debounce == 2 && c->cameras[1].merge_gap == 0);
    CHECK(c && c->cameras[0].debounce == 2 && c->cameras[1].min_duration == -1);
    vg_watch_config_free(c);
    CHECK_OK(load_text("ok.yaml", ok[6].yaml, &c, &err), &err);
    CHECK(c && c->cameras[0].shadow == 1 && c->cameras[0].loop == 1);
    CHECK(c && c->max_size == 1610612736.0 && c->max_age == 0 && c->pre == 0.5 && c->post == 2.5);
    vg_watch_config_free(c);
    CHECK_OK(load_text("ok.yaml", ok[7].yaml, &c, &err), &err);
    CHECK(c && c->cameras[0].has_score && c->cameras[0].score == VG_SCORE_PSNR);
    CHECK(c && c->cameras[0].threshold == 25 && c->cameras[0].exit == 27);
    vg_watch_config_free(c);
}

/* ---- errors --------------------------------------------------------------------------- */

typedef struct bad_case {
    const char *yaml;
    int code, line;
    const char *says; /* a part of the message after "PATH:LINE: " */
} bad_case;

static const bad_case bad[] = {
    /* keys */
    {CAM "    treshold: 0.1\n", VG_ERR_FORMAT, 5,
     "unknown key 'treshold' in cameras[0] (did you mean 'threshold'?)"},
    {CAM "htp:\n  port: 1\n", VG_ERR_FORMAT, 5,
     "unknown key 'htp' at the top level (did you mean 'http'?)"},
    {CAM "http:\n  zzzzzz: 1\n", VG_ERR_FORMAT, 6,
     "unknown key 'zzzzzz' in http (known keys: port bind token)"},
    {CAM "    source: again\n", VG_ERR_FORMAT, 5,
     "cameras[0]: key 'source' is given twice (first on line 3)"},
    {CAM "[a]: 1\n", VG_ERR_FORMAT, 5, "expected a key name, got a list"},
    {CAM "\"loop\\0x\": 1\n", VG_ERR_FORMAT, 5, "a key holds a NUL character"},
    {"cameras:\n  - id: a\n    source: s\n", VG_ERR_MISSING, 2, "cameras[0]: missing 'model'"},
    {"http:\n  port: 1\n", VG_ERR_MISSING, 1, "missing 'cameras'"},
    /* the cameras list */
    {"cameras: []\n", VG_ERR_MISSING, 1, "cameras: the list is empty"},
    {"cameras:\n  gate:\n    source: x\n", VG_ERR_FORMAT, 2, "cameras: expected a list of cameras"},
    {CAM "  - wrong\n", VG_ERR_FORMAT, 5,
     "cameras[1]: expected a mapping (key: value lines), got 'wrong'"},
    {CAM "  - id: a\n    source: t\n    model: m\n", VG_ERR_FORMAT, 5,
     "cameras[1].id: 'a' is already the id of cameras[0]"},
    {"cameras:\n  - id: gate 2\n    source: s\n    model: m\n", VG_ERR_FORMAT, 2,
     "cameras[0].id: 'gate 2' may hold only letters, digits, '_' and '-'"},
    {"cameras:\n  - id: a123456789b123456789c123456789d123456789e123456789f123456789g123\n"
     "    source: s\n    model: m\n", VG_ERR_FORMAT, 2, "is longer than 63 characters"},
    {"cameras:\n  - id: a\n    source: \"\"\n    model: m\n", VG_ERR_FORMAT, 3,
     "cameras[0].source: is empty"},
    {"cameras:\n  - id: a\n    source: \"x\\0y\"\n    model: m\n", VG_ERR_FORMAT, 3,
     "cameras[0].source: the value holds a NUL character"},
    /* ROI and masks */
    {CAM "  - {id: b, source: s, model: m}\n  - id: c\n    source: s\n    model: m\n"
     "    roi: [1, 2, 3]\n", VG_ERR_FORMAT, 9,
     "cameras[2].roi: expected 4 integers x, y, w, h, got 3"},
    {CAM "    roi: {x: 1}\n", VG_ERR_FORMAT, 5,
     "cameras[0].roi: expected 4 integers x, y, w, h, got a mapping"},
    {CAM "    roi: [0, 0, 0, 10]\n", VG_ERR_FORMAT, 5,
     "cameras[0].roi.w: 0 is out of range 1..65535"},
    {CAM "    roi: [0, -1, 5, 10]\n", VG_ERR_FORMAT, 5,
     "cameras[0].roi.y: -1 is out of range 0..65535"},
    {CAM "    privacy_masks:\n      - [[0, 0], [1, 1]]\n", VG_ERR_FORMAT, 6,
     "cameras[0].privacy_masks[0]: a polygon needs at least 3 points [x, y], got 2"},
    {CAM "    privacy_masks:\n      - [[0, 0], [1, 1], [2, 2]]\n      - [[0, 0], [1, 1],\n"
     "         [-4, 2]]\n", VG_ERR_FORMAT, 8,
     "cameras[0].privacy_masks[1][2].x: -4 is out of range 0..65535"},
    {CAM "    privacy_masks:\n      - [[0, 0], [1, 1], [2, 2, 3]]\n", VG_ERR_FORMAT, 6,
     "cameras[0].privacy_masks[0][2]: expected a point [x, y], got 3 numbers"},
    {CAM "    privacy_masks:\n      - [[0, 0], [1, 1], 5]\n", VG_ERR_FORMAT, 6,
     "cameras[0].privacy_masks[0][2]: expected a point [x, y], got '5'"},
    {CAM "    privacy_masks: [0, 0, 10, 10]\n", VG_ERR_FORMAT, 5,
     "cameras[0].privacy_masks[0]: expected a polygon, a list of points [x, y], got '0'"},
    {CAM "    privacy_masks:\n      - [[0, 0], [a, 1], [2, 2]]\n", VG_ERR_FORMAT, 6,
     "cameras[0].privacy_masks[0][1].x: expected a number, got 'a'"},
    /* scalars of each form */
    {CAM "http:\n  port: 70000\n", VG_ERR_FORMAT, 6, "http.port: 70000 is out of range 0..65535"},
    {CAM "http:\n  port: 99999999999999999999\n", VG_ERR_FORMAT, 6,
     "http.port: 99999999999999999999 is out of range 0..65535"},
    {CAM "http:\n  port: eighty\n", VG_ERR_FORMAT, 6,
     "http.port: expected an integer, got 'eighty'"},
    {CAM "http:\n  port:\n", VG_ERR_FORMAT, 6, "http.port: expected an integer, got nothing"},
    {CAM "http:\n  port: [80]\n", VG_ERR_FORMAT, 6, "http.port: expected an integer, got a list"},
    {CAM "http:\n  port: \"80\\n\\t80\"\n", VG_ERR_FORMAT, 6,
     "http.port: expected an integer, got '80\\n\\t80'"},
    {CAM "http: [1]\n", VG_ERR_FORMAT, 5,
     "http: expected a mapping (key: value lines), got a list"},
    {CAM "storage:\n  evidence:\n    pre: 5 minutes\n", VG_ERR_FORMAT, 7,
     "storage.evidence.pre: expected a duration (seconds, or a number with ms, s, m, h or d"},
    {CAM "storage:\n  evidence:\n    pre: 15m\n", VG_ERR_FORMAT, 7,
     "storage.evidence.pre: 15m is out of range 0..600 seconds"},
    {CAM "storage:\n  retention:\n    max_age: -1d\n", VG_ERR_FORMAT, 7,
     "storage.retention.max_age: -1d is out of range 0.."},
    {CAM "storage:\n  retention:\n    max_size: 20 gigs\n", VG_ERR_FORMAT, 7,
     "storage.retention.max_size: expected a size (bytes, or a number with kB, MB, GB, TB"},
    {CAM "storage:\n  dir: ~\n", VG_ERR_FORMAT, 6, "storage.dir: expected a string, got nothing"},
    {CAM "    shadow: maybe\n", VG_ERR_FORMAT, 5,
     "cameras[0].shadow: expected true, false, yes or no, got 'maybe'"},
    {CAM "    fit: zoom\n", VG_ERR_FORMAT, 5,
     "cameras[0].fit: unknown value 'zoom' (stretch, crop or pad)"},
    {CAM "    score: mse\n", VG_ERR_FORMAT, 5,
     "cameras[0].score: unknown value 'mse' (patch or psnr)"},
    {CAM "    threshold: 1e999\n", VG_ERR_FORMAT, 5,
     "cameras[0].threshold: expected a number, got '1e999'"},
    {CAM "    decide:\n      smooth: 0\n", VG_ERR_FORMAT, 6,
     "cameras[0].decide.smooth: 0 is out of range 1..10000"},
    {CAM "engine:\n  threads: -2\n", VG_ERR_FORMAT, 6,
     "engine.threads: -2 is out of range 0..1024"},
    /* across keys */
    {CAM "    threshold: 0\n", VG_ERR_FORMAT, 5, "cameras[0].threshold: 0 is not above 0"},
    {CAM "    threshold: 0.01\n    score: patch\n    decide:\n      exit: 0.02\n", VG_ERR_FORMAT, 8,
     "cameras[0].decide.exit: 0.02 is above the threshold 0.01"},
    {CAM "    decide:\n      exit: 22\n    score: psnr\n    threshold: 25\n", VG_ERR_FORMAT, 6,
     "cameras[0].decide.exit: 22 dB is below the threshold 25 dB"},
    {CAM "http:\n  bind: 0.0.0.0\n", VG_ERR_MISSING, 6,
     "http.bind: 0.0.0.0 can be reached from other machines, so http.token is required"},
    {CAM "http:\n  bind: 192.168.1.20\n  token: ~\n", VG_ERR_MISSING, 6,
     "so http.token is required"},
    {CAM "sinks:\n  webhook:\n    url: ftp://x\n", VG_ERR_FORMAT, 7,
     "sinks.webhook.url: 'ftp://x' is not an http:// or https:// URL"},
    {CAM "sinks:\n  mqtt:\n    host: h\n    password: p\n", VG_ERR_FORMAT, 8,
     "sinks.mqtt.password: given without a username"},
    {CAM "sinks:\n  mqtt:\n    prefix: site/#\n", VG_ERR_FORMAT, 7,
     "sinks.mqtt.prefix: 'site/#' holds an MQTT wildcard"},
    {CAM "sinks:\n  jsonl: \"\"\n", VG_ERR_FORMAT, 6,
     "sinks.jsonl: is empty (for none, leave the key out or write ~)"},
    /* the environment */
    {CAM "http:\n  token: ${VG_TEST_UNSET}\n", VG_ERR_MISSING, 6,
     "http.token: environment variable VG_TEST_UNSET is not set"},
    {CAM "http:\n  token: ${oops\n", VG_ERR_FORMAT, 6,
     "http.token: '${oops' is not a reference ${NAME}"},
    /* the YAML itself */
    {CAM "sinks:\n  jsonl: -\n", VG_ERR_FORMAT, 6, "bad YAML: "},
    {CAM "http:\n  port: [1\n", VG_ERR_FORMAT, 6, "bad YAML: did not find expected ',' or ']'"},
    {CAM "http:\n\tport: 1\n", VG_ERR_FORMAT, 6, "YAML indents with spaces, not tabs"},
    {CAM "http:\n  bind: \xff\n", VG_ERR_FORMAT, 6, "bad YAML: invalid leading UTF-8 octet"},
    {CAM "\n\nhttp:\n  bind: a\x01\n", VG_ERR_FORMAT, 8,
     "bad YAML: control characters are not allowed"},
    {CAM "---\nfoo: 1\n", VG_ERR_FORMAT, 6, "a second YAML document"},
    {"", VG_ERR_MISSING, 1, "the file is empty"},
    {"# only a comment\n", VG_ERR_MISSING, 1, "the file is empty"},
    {"hello\n", VG_ERR_FORMAT, 1, "expected a mapping (key: value lines), got 'hello'"},
    {"cameras: &c [*c]\n", VG_ERR_FORMAT, 1, "cameras"},
};

static void test_errors(void) {
    unsetenv("VG_TEST_UNSET");
    const char *path = test_path("bad.yaml");
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        vg_watch_config *c = NULL;
        vg_error err = {0};
        int rc = load_text("bad.yaml", bad[i].yaml, &c, &err);
        int line = located(err.msg, path);
        const char *text = line ? strstr(err.msg, ": ") + 2 : err.msg;
        int ok = rc == bad[i].code && !c && line == bad[i].line && strstr(text, bad[i].says);
        printf("%s line %-2d %s\n", ok ? "error" : "FAIL ", line, text);
        if (!ok) {
            fprintf(stderr, "FAIL case %zu: rc %d (want %d), line %d (want %d), message '%s' "
                    "(want '%s')\n", i, rc, bad[i].code, line, bad[i].line, err.msg, bad[i].says);
            test_failures++;
        }
        vg_watch_config_free(c);
    }
    vg_watch_config *c = NULL;
    vg_error err = {0};
    CHECK(vg_watch_config_load(test_path("absent.yaml"), &c, &err) == VG_ERR_IO && !c);
    CHECK(strstr(err.msg, "absent.yaml") != NULL);
    CHECK(vg_watch_config_load(NULL, &c, NULL) == VG_ERR_ARG);
}

/* Limits against files that are small but blow up: 1025 cameras, and one polygon repeated
 * by aliases past the file's budget of mask points. */
static void test_limits(void) {
    size_t cap = 1 << 17, n = 0; /* room for either file */
    char *yaml = malloc(cap);
    if (!yaml) return;
    n += (size_t)snprintf(yaml, cap, "cameras:\n");
    for (int i = 0; i < 1025; i++)
        n += (size_t)snprintf(yaml + n, cap - n, "  - {id: c%d, source: s, model: m}\n", i);
    vg_watch_config *c = NULL;
    vg_error err = {0};
    CHECK(load_text("many.yaml", yaml, &c, &err) == VG_ERR_FORMAT && !c);
    CHECK(strstr(err.msg, ":2: cameras: 1025 cameras; at most 1024") != NULL);
    n = (size_t)snprintf(yaml, cap, CAM "    privacy_masks: [&p [");
    for (int i = 0; i < 1000; i++) n += (size_t)snprintf(yaml + n, cap - n, "[%d, 1],", i);
    n += (size_t)snprintf(yaml + n, cap - n - 1, "[0, 0]]");
    for (int i = 0; i < 100; i++) n += (size_t)snprintf(yaml + n, cap - n, ", *p");
    snprintf(yaml + n, cap - n, "]\n");
    CHECK(load_text("aliases.yaml", yaml, &c, &err) == VG_ERR_FORMAT && !c);
    CHECK(strstr(err.msg, "hold more than 100000 points in all") != NULL);
    printf("limits: %s\n", err.msg);
    free(yaml);
}

/* ---- damaged copies of the example ------------------------------------------------------ */

/* Loads len bytes of text as a file: it loads (and is freed) or fails as "PATH:LINE: ..."
 * with a line inside the file and a code for bad content. Returns 1 when it loaded. */
static int survives(const char *text, size_t len, int *broken) {
    const char *path = test_path("damaged.yaml");
    if (!test_write_file(path, text, len)) return 0;
    vg_watch_config *c = NULL;
    vg_error err = {0};
    int rc = vg_watch_config_load(path, &c, &err), lines = 1;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    int line = located(err.msg, path);
    int ok = rc == VG_OK ? c && c->n_cameras >= 1 && c->cameras[0].id && c->cameras[0].model
                         : !c && line >= 1 && line <= lines &&
                               (rc == VG_ERR_FORMAT || rc == VG_ERR_MISSING);
    if (!ok && !*broken) {
        fprintf(stderr, "FAIL damaged copy (%zu bytes): rc %d, '%s'\n", len, rc, err.msg);
        *broken = 1;
        test_failures++;
    }
    vg_watch_config_free(c);
    return rc == VG_OK;
}

static void test_damaged(void) {
    size_t len = 0;
    char *text = test_read_file(EXAMPLE, &len);
    if (!text) return;
    int broken = 0, loaded = 0, tried = 0;
    for (size_t n = 0; n < len; n += 7, tried++) loaded += survives(text, n, &broken);
    printf("damaged: %d truncated copies (every 7 bytes): %d load, the rest fail with a line\n",
           tried, loaded);
    /* Half the bytes written are YAML's own characters and digits, which reach the schema;
     * arbitrary bytes mostly stop at the UTF-8 reader. */
    static const char yaml_chars[] = ":-[]{},#&*!|>'\"%@`~ \n\t$0123456789.ax";
    char *copy = malloc(len);
    loaded = tried = 0;
    for (uint64_t k = 0; copy && k < 3000; k++, tried++) {
        memcpy(copy, text, len);
        int flips = 1 + (int)(vg_rand_u64(SEED, k) % 4);
        for (int f = 0; f < flips; f++) {
            uint64_t r = vg_rand_u64(SEED + 1 + (uint64_t)f, k);
            copy[r % len] = r >> 63 ? yaml_chars[(r >> 32) % (sizeof yaml_chars - 1)]
                                    : (char)(r >> 32); /* any byte, NUL included */
        }
        loaded += survives(copy, len, &broken);
    }
    printf("damaged: %d copies with 1-4 bytes replaced: %d load, the rest fail with a line\n",
           tried, loaded);
    free(copy);
    free(text);
}

int main(void) {
    test_tmpdir("config");
    test_example();
    test_defaults();
    test_values();
    test_expand();
    test_loads();
    test_errors();
    test_limits();
    test_damaged();
    test_tmpdir_remove();
    return test_result();
}
