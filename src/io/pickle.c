/* pickle.c - a restricted unpickler: the opcodes and globals of a torch state dict.
 *
 * A stack machine as in CPython's Unpickler (MARK opens a new stack frame; memo slots
 * are set by BINPUT/MEMOIZE), but GLOBAL resolves only an allow-list and REDUCE
 * "calls" those few functions by building descriptions, so nothing is ever executed.
 * Values live in one allocation list freed at once, so shared and cyclic references
 * (which the memo allows) need no ownership rules. */
#include "io/pickle.h"

#include <stdlib.h>
#include <string.h>

#include "io/bytes.h"

/* The callables a state dict refers to. */
enum { G_ORDERED_DICT = 1, G_REBUILD_TENSOR, G_REBUILD_PARAM, G_STORAGE };

struct vg_pickle {
    vg_pk_value *all;
};

typedef struct unpickler {
    const uint8_t *start, *p, *end;
    vg_pickle *pk;
    vg_pk_value **stack;
    size_t sp, scap;
    size_t *marks; /* stack heights at each open MARK */
    size_t nm, mcap;
    vg_pk_value **memo;
    size_t memo_cap, memo_count;
    vg_pk_value *result;
    vg_error *err;
} unpickler;

/* ---- plumbing ---- */

static int damaged(unpickler *u, const char *what) {
    return vg_fail(u->err, VG_ERR_FORMAT, "pickle is damaged: %s (byte %zu of data.pkl)", what,
                   (size_t)(u->p - u->start));
}

/* Grows *a (elements of elem bytes) to hold need; 0, or -1 when out of memory. */
static int grow(void **a, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) ncap *= 2;
    void *p = realloc(*a, ncap * elem);
    if (!p) return -1;
    *a = p;
    *cap = ncap;
    return 0;
}

static vg_pk_value *new_value(unpickler *u, vg_pk_kind kind) {
    vg_pk_value *v = calloc(1, sizeof *v);
    if (!v) {
        vg_fail(u->err, VG_ERR_NOMEM, "out of memory reading data.pkl");
        return NULL;
    }
    v->kind = kind;
    v->next_alloc = u->pk->all;
    u->pk->all = v;
    return v;
}

static int push(unpickler *u, vg_pk_value *v) {
    if (!v) return u->err->code;
    if (grow((void **)&u->stack, &u->scap, u->sp + 1, sizeof *u->stack) != 0)
        return vg_fail(u->err, VG_ERR_NOMEM, "out of memory reading data.pkl");
    u->stack[u->sp++] = v;
    return VG_OK;
}

static int push_new(unpickler *u, vg_pk_kind kind, int64_t i) {
    vg_pk_value *v = new_value(u, kind);
    if (v) v->i = i;
    return push(u, v);
}

/* The lowest stack slot the current MARK frame may touch. */
static size_t frame_floor(const unpickler *u) {
    return u->nm ? u->marks[u->nm - 1] : 0;
}

static int pop(unpickler *u, vg_pk_value **v) {
    if (u->sp <= frame_floor(u)) return damaged(u, "stack underflow");
    *v = u->stack[--u->sp];
    return VG_OK;
}

static int top(unpickler *u, vg_pk_value **v) {
    if (u->sp <= frame_floor(u)) return damaged(u, "stack underflow");
    *v = u->stack[u->sp - 1];
    return VG_OK;
}

/* Closes the innermost MARK; the items above it are stack[*first .. sp). */
static int pop_mark(unpickler *u, size_t *first) {
    if (!u->nm) return damaged(u, "no MARK to close");
    *first = u->marks[--u->nm];
    return VG_OK;
}

static int append_item(unpickler *u, vg_pk_value *c, vg_pk_value *item) {
    if (grow((void **)&c->items, &c->cap, c->n + 1, sizeof *c->items) != 0)
        return vg_fail(u->err, VG_ERR_NOMEM, "out of memory reading data.pkl");
    c->items[c->n++] = item;
    return VG_OK;
}

/* Consumes n argument bytes of the current opcode. */
static int take(unpickler *u, size_t n, const uint8_t **p) {
    if ((size_t)(u->end - u->p) < n) return damaged(u, "ends inside an opcode");
    *p = u->p;
    u->p += n;
    return VG_OK;
}

/* ---- scalars and strings ---- */

static int op_uint(unpickler *u, size_t nbytes) {
    const uint8_t *p = NULL;
    int rc = take(u, nbytes, &p);
    if (rc != VG_OK) return rc;
    int64_t v = nbytes == 1 ? p[0] : nbytes == 2 ? vg_rd16(p) : (int32_t)vg_rd32(p);
    return push_new(u, VG_PK_INT, v);
}

/* LONG1/LONG4: a little-endian two's complement integer of a given byte length. */
static int op_long(unpickler *u, size_t lenbytes) {
    const uint8_t *p = NULL;
    int rc = take(u, lenbytes, &p);
    size_t n = rc == VG_OK ? (lenbytes == 1 ? p[0] : vg_rd32(p)) : 0;
    if (rc == VG_OK && n > 8)
        return vg_fail(u->err, VG_ERR_UNSUPPORTED, "pickle holds an integer wider than 64 bits");
    if (rc == VG_OK) rc = take(u, n, &p);
    if (rc != VG_OK) return rc;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    if (n > 0 && n < 8 && (p[n - 1] & 0x80)) v |= ~(uint64_t)0 << (8 * n); /* sign-extend */
    return push_new(u, VG_PK_INT, (int64_t)v);
}

static int op_binfloat(unpickler *u) {
    const uint8_t *p = NULL;
    int rc = take(u, 8, &p);
    if (rc != VG_OK) return rc;
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++) bits = bits << 8 | p[i]; /* big-endian, unlike the rest */
    vg_pk_value *v = new_value(u, VG_PK_FLOAT);
    if (v) memcpy(&v->f, &bits, sizeof v->f);
    return push(u, v);
}

/* A string whose length is a lenbytes-wide little-endian prefix. */
static int op_string(unpickler *u, size_t lenbytes) {
    const uint8_t *p = NULL;
    int rc = take(u, lenbytes, &p);
    if (rc != VG_OK) return rc;
    uint64_t n = lenbytes == 1 ? p[0] : lenbytes == 4 ? vg_rd32(p) : vg_rd64(p);
    if (n > (uint64_t)(u->end - u->p)) return damaged(u, "string runs past the end");
    vg_pk_value *v = new_value(u, VG_PK_STR);
    if (v) {
        v->s = (const char *)u->p;
        v->slen = (size_t)n;
    }
    u->p += n;
    return push(u, v);
}

/* ---- globals: the allow-list ---- */

static const struct {
    const char *name;
    vg_dtype dtype;
} storage_types[] = {
    {"FloatStorage", VG_DT_F32}, {"DoubleStorage", VG_DT_F64}, {"HalfStorage", VG_DT_F16},
    {"BFloat16Storage", VG_DT_BF16}, {"LongStorage", VG_DT_I64}, {"IntStorage", VG_DT_I32},
    {"ShortStorage", VG_DT_I16}, {"CharStorage", VG_DT_I8}, {"ByteStorage", VG_DT_U8},
    {"BoolStorage", VG_DT_BOOL},
};

static int is(const char *s, size_t n, const char *lit) {
    return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

/* Copies up to size-1 bytes of s, printable ASCII only, for an error message. */
static void printable(char *dst, size_t size, const char *s, size_t n) {
    size_t k = 0;
    for (; k < n && k + 1 < size; k++) dst[k] = (s[k] >= 0x20 && s[k] < 0x7f) ? s[k] : '?';
    dst[k] = '\0';
}

static int refuse_global(unpickler *u, const char *mod, size_t ml, const char *name, size_t nl) {
    char m[128], n[128];
    printable(m, sizeof m, mod, ml);
    printable(n, sizeof n, name, nl);
    return vg_fail(u->err, VG_ERR_UNSUPPORTED, "pickle refers to '%s.%s', which a state dict "
                   "does not need (vigil reads torch.save(model.state_dict(), path))", m, n);
}

/* Pushes the global module.name if it is one a state dict needs; refuses any other. */
static int resolve_global(unpickler *u, const char *mod, size_t ml, const char *name,
                          size_t nl) {
    int g = 0;
    vg_dtype dt = VG_DT_F32;
    if (is(mod, ml, "collections") && is(name, nl, "OrderedDict")) g = G_ORDERED_DICT;
    if (is(mod, ml, "torch._utils") && is(name, nl, "_rebuild_tensor_v2")) g = G_REBUILD_TENSOR;
    if (is(mod, ml, "torch._utils") && is(name, nl, "_rebuild_parameter")) g = G_REBUILD_PARAM;
    for (size_t i = 0; i < sizeof storage_types / sizeof *storage_types; i++) {
        if (is(mod, ml, "torch") && is(name, nl, storage_types[i].name)) {
            g = G_STORAGE;
            dt = storage_types[i].dtype;
        }
    }
    if (!g) return refuse_global(u, mod, ml, name, nl);
    vg_pk_value *v = new_value(u, VG_PK_GLOBAL);
    if (v) {
        v->global = g;
        v->dtype = dt;
    }
    return push(u, v);
}

/* GLOBAL: "module\nname\n". */
static int op_global(unpickler *u) {
    const uint8_t *nl1 = memchr(u->p, '\n', (size_t)(u->end - u->p));
    const uint8_t *nl2 = nl1 ? memchr(nl1 + 1, '\n', (size_t)(u->end - nl1 - 1)) : NULL;
    if (!nl2) return damaged(u, "GLOBAL without two lines");
    const char *mod = (const char *)u->p, *name = (const char *)nl1 + 1;
    u->p = nl2 + 1;
    return resolve_global(u, mod, (size_t)((const char *)nl1 - mod), name,
                          (size_t)((const char *)nl2 - name));
}

/* STACK_GLOBAL (protocol 4): module and name are strings on the stack. */
static int op_stack_global(unpickler *u) {
    vg_pk_value *mod = NULL, *name = NULL;
    int rc = pop(u, &name);
    if (rc == VG_OK) rc = pop(u, &mod);
    if (rc != VG_OK) return rc;
    if (mod->kind != VG_PK_STR || name->kind != VG_PK_STR)
        return damaged(u, "STACK_GLOBAL without two strings");
    return resolve_global(u, mod->s, mod->slen, name->s, name->slen);
}

/* ---- memo ---- */

static int memo_put(unpickler *u, size_t idx) {
    vg_pk_value *v = NULL;
    int rc = top(u, &v);
    if (rc != VG_OK) return rc;
    if (idx >= (size_t)(u->end - u->start)) return damaged(u, "memo index out of range");
    size_t old = u->memo_cap;
    if (grow((void **)&u->memo, &u->memo_cap, idx + 1, sizeof *u->memo) != 0)
        return vg_fail(u->err, VG_ERR_NOMEM, "out of memory reading data.pkl");
    if (u->memo_cap > old) memset(u->memo + old, 0, (u->memo_cap - old) * sizeof *u->memo);
    if (!u->memo[idx]) u->memo_count++;
    u->memo[idx] = v;
    return VG_OK;
}

static int op_put(unpickler *u, size_t nbytes) {
    const uint8_t *p = NULL;
    int rc = take(u, nbytes, &p);
    if (rc != VG_OK) return rc;
    return memo_put(u, nbytes == 1 ? p[0] : vg_rd32(p));
}

static int op_get(unpickler *u, size_t nbytes) {
    const uint8_t *p = NULL;
    int rc = take(u, nbytes, &p);
    if (rc != VG_OK) return rc;
    size_t idx = nbytes == 1 ? p[0] : vg_rd32(p);
    if (idx >= u->memo_cap || !u->memo[idx]) return damaged(u, "memo slot never set");
    return push(u, u->memo[idx]);
}

/* ---- containers ---- */

/* Makes a tuple of stack[first .. sp) and leaves it in their place. */
static int make_tuple(unpickler *u, size_t first) {
    vg_pk_value *t = new_value(u, VG_PK_TUPLE);
    for (size_t i = first; t && i < u->sp; i++)
        if (append_item(u, t, u->stack[i]) != VG_OK) return u->err->code;
    u->sp = first;
    return push(u, t);
}

static int op_tuple_mark(unpickler *u) {
    size_t first = 0;
    int rc = pop_mark(u, &first);
    return rc == VG_OK ? make_tuple(u, first) : rc;
}

static int op_tuple_n(unpickler *u, size_t n) {
    if (u->sp - frame_floor(u) < n) return damaged(u, "stack underflow");
    return make_tuple(u, u->sp - n);
}

static int op_setitem(unpickler *u) {
    vg_pk_value *k = NULL, *v = NULL, *d = NULL;
    int rc = pop(u, &v);
    if (rc == VG_OK) rc = pop(u, &k);
    if (rc == VG_OK) rc = top(u, &d);
    if (rc != VG_OK) return rc;
    if (d->kind != VG_PK_DICT) return damaged(u, "SETITEM on something not a dict");
    rc = append_item(u, d, k);
    return rc == VG_OK ? append_item(u, d, v) : rc;
}

/* SETITEMS / APPENDS: the items above the MARK go into the container below it. */
static int op_add_marked(unpickler *u, vg_pk_kind want) {
    size_t first = 0;
    vg_pk_value *c = NULL;
    int rc = pop_mark(u, &first);
    if (rc != VG_OK) return rc;
    if (first <= frame_floor(u)) return damaged(u, "stack underflow");
    c = u->stack[first - 1];
    if (c->kind != want) return damaged(u, "SETITEMS/APPENDS on the wrong kind of object");
    if (want == VG_PK_DICT && (u->sp - first) % 2) return damaged(u, "odd SETITEMS");
    for (size_t i = first; i < u->sp; i++)
        if ((rc = append_item(u, c, u->stack[i])) != VG_OK) return rc;
    u->sp = first;
    return VG_OK;
}

static int op_append(unpickler *u) {
    vg_pk_value *v = NULL, *l = NULL;
    int rc = pop(u, &v);
    if (rc == VG_OK) rc = top(u, &l);
    if (rc != VG_OK) return rc;
    if (l->kind != VG_PK_LIST) return damaged(u, "APPEND on something not a list");
    return append_item(u, l, v);
}

/* ---- the calls a state dict makes ---- */

static int is_count(const vg_pk_value *v) {
    return v->kind == VG_PK_INT && v->i >= 0;
}

/* _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
 * backward_hooks[, metadata]): recorded, not run. */
static int rebuild_tensor(unpickler *u, const vg_pk_value *a, vg_pk_value **out) {
    vg_pk_value *const *x = a->items;
    if (a->n < 6 || a->n > 7 || x[0]->kind != VG_PK_STORAGE || !is_count(x[1]) ||
        x[2]->kind != VG_PK_TUPLE || x[3]->kind != VG_PK_TUPLE || x[2]->n != x[3]->n)
        return damaged(u, "_rebuild_tensor_v2 arguments are not (storage, offset, size, stride, ...)");
    if (x[2]->n > VG_MAX_DIMS)
        return vg_fail(u->err, VG_ERR_UNSUPPORTED, "a tensor has %zu dimensions (at most %d "
                       "supported)", x[2]->n, VG_MAX_DIMS);
    vg_pk_value *t = new_value(u, VG_PK_TENSOR);
    if (!t) return u->err->code;
    t->storage = x[0];
    t->dtype = x[0]->dtype;
    t->offset = x[1]->i;
    t->ndim = (int)x[2]->n;
    for (int d = 0; d < t->ndim; d++) {
        if (!is_count(x[2]->items[d]) || !is_count(x[3]->items[d]))
            return damaged(u, "tensor size or stride is not a non-negative integer");
        t->size[d] = x[2]->items[d]->i;
        t->stride[d] = x[3]->items[d]->i;
    }
    *out = t;
    return VG_OK;
}

/* REDUCE / NEWOBJ: fn(*args) for the allowed callables. */
static int call(unpickler *u, const vg_pk_value *fn, const vg_pk_value *args, vg_pk_value **out) {
    if (fn->kind != VG_PK_GLOBAL || args->kind != VG_PK_TUPLE)
        return damaged(u, "call of something not a global, or without an argument tuple");
    switch (fn->global) {
    case G_ORDERED_DICT:
        if (args->n) return damaged(u, "OrderedDict called with arguments");
        *out = new_value(u, VG_PK_DICT);
        return *out ? VG_OK : u->err->code;
    case G_REBUILD_TENSOR: return rebuild_tensor(u, args, out);
    case G_REBUILD_PARAM: /* _rebuild_parameter(tensor, requires_grad, hooks): the tensor */
        if (args->n < 1 || args->items[0]->kind != VG_PK_TENSOR)
            return damaged(u, "_rebuild_parameter without a tensor");
        *out = args->items[0];
        return VG_OK;
    default: return damaged(u, "a storage type is called");
    }
}

static int op_reduce(unpickler *u) {
    vg_pk_value *fn = NULL, *args = NULL, *res = NULL;
    int rc = pop(u, &args);
    if (rc == VG_OK) rc = pop(u, &fn);
    if (rc == VG_OK) rc = call(u, fn, args, &res);
    return rc == VG_OK ? push(u, res) : rc;
}

/* BINPERSID: ('storage', torch.XStorage, key, location, numel) names archive/data/key. */
static int op_persid(unpickler *u) {
    vg_pk_value *pid = NULL;
    int rc = pop(u, &pid);
    if (rc != VG_OK) return rc;
    vg_pk_value *const *x = pid->items;
    if (pid->kind != VG_PK_TUPLE || pid->n != 5 || x[0]->kind != VG_PK_STR ||
        !is(x[0]->s, x[0]->slen, "storage") || x[1]->kind != VG_PK_GLOBAL ||
        x[1]->global != G_STORAGE || x[2]->kind != VG_PK_STR || !is_count(x[4]))
        return damaged(u, "persistent id is not ('storage', type, key, location, numel)");
    vg_pk_value *s = new_value(u, VG_PK_STORAGE);
    if (s) {
        s->dtype = x[1]->dtype;
        s->s = x[2]->s;
        s->slen = x[2]->slen;
        s->i = x[4]->i;
    }
    return push(u, s);
}

/* BUILD sets state on an object (an OrderedDict's _metadata); tensors do not need it. */
static int op_build(unpickler *u) {
    vg_pk_value *state = NULL, *obj = NULL;
    int rc = pop(u, &state);
    return rc == VG_OK ? top(u, &obj) : rc;
}

static int op_mark(unpickler *u) {
    if (grow((void **)&u->marks, &u->mcap, u->nm + 1, sizeof *u->marks) != 0)
        return vg_fail(u->err, VG_ERR_NOMEM, "out of memory reading data.pkl");
    u->marks[u->nm++] = u->sp;
    return VG_OK;
}

static int op_pop_mark(unpickler *u) {
    size_t first = 0;
    int rc = pop_mark(u, &first);
    if (rc == VG_OK) u->sp = first;
    return rc;
}

static int op_skip(unpickler *u, size_t n) {
    const uint8_t *p = NULL;
    return take(u, n, &p);
}

static int op_discard(unpickler *u) {
    vg_pk_value *v = NULL;
    return pop(u, &v);
}

static int op_stop(unpickler *u) {
    return pop(u, &u->result);
}

static int op_memoize(unpickler *u) {
    return memo_put(u, u->memo_count);
}

/* An opcode this reader does not handle: valid pickle (unsupported) or not a pickle. */
static int unknown_op(unpickler *u, int op) {
    static const char ascii_ops[] = "(.012FIJKLMNPQRSTUVXabcd}eghijl]opqrst)uGBC";
    size_t at = (size_t)(u->p - u->start) - 1;
    if ((op >= 0x80 && op <= 0x98) || (op && strchr(ascii_ops, op)))
        return vg_fail(u->err, VG_ERR_UNSUPPORTED, "pickle opcode 0x%02x at byte %zu of "
                       "data.pkl is not one a state dict uses", op, at);
    return vg_fail(u->err, VG_ERR_FORMAT, "pickle is damaged: byte 0x%02x at %zu of data.pkl "
                   "is not an opcode", op, at);
}

/* Runs one opcode. */
static int step(unpickler *u, int op) {
    switch (op) {
    case 0x80: return op_skip(u, 1);           /* PROTO */
    case 0x95: return op_skip(u, 8);           /* FRAME: frames are transparent */
    case 'c': return op_global(u);             /* GLOBAL */
    case 0x93: return op_stack_global(u);      /* STACK_GLOBAL */
    case 'q': return op_put(u, 1);             /* BINPUT */
    case 'r': return op_put(u, 4);             /* LONG_BINPUT */
    case 0x94: return op_memoize(u);           /* MEMOIZE */
    case 'h': return op_get(u, 1);             /* BINGET */
    case 'j': return op_get(u, 4);             /* LONG_BINGET */
    case '(': return op_mark(u);               /* MARK */
    case '}': return push_new(u, VG_PK_DICT, 0);  /* EMPTY_DICT */
    case ')': return push_new(u, VG_PK_TUPLE, 0); /* EMPTY_TUPLE */
    case ']': return push_new(u, VG_PK_LIST, 0);  /* EMPTY_LIST */
    case 't': return op_tuple_mark(u);         /* TUPLE */
    case 0x85: return op_tuple_n(u, 1);        /* TUPLE1 */
    case 0x86: return op_tuple_n(u, 2);        /* TUPLE2 */
    case 0x87: return op_tuple_n(u, 3);        /* TUPLE3 */
    case 'X': return op_string(u, 4);          /* BINUNICODE */
    case 0x8c: return op_string(u, 1);         /* SHORT_BINUNICODE */
    case 0x8d: return op_string(u, 8);         /* BINUNICODE8 */
    case 'T': case 'B': return op_string(u, 4); /* BINSTRING, BINBYTES */
    case 'U': case 'C': return op_string(u, 1); /* SHORT_BINSTRING, SHORT_BINBYTES */
    case 'J': return op_uint(u, 4);            /* BININT (signed) */
    case 'K': return op_uint(u, 1);            /* BININT1 */
    case 'M': return op_uint(u, 2);            /* BININT2 */
    case 0x8a: return op_long(u, 1);           /* LONG1 */
    case 0x8b: return op_long(u, 4);           /* LONG4 */
    case 'G': return op_binfloat(u);           /* BINFLOAT */
    case 0x88: return push_new(u, VG_PK_BOOL, 1); /* NEWTRUE */
    case 0x89: return push_new(u, VG_PK_BOOL, 0); /* NEWFALSE */
    case 'N': return push_new(u, VG_PK_NONE, 0);  /* NONE */
    case 'Q': return op_persid(u);             /* BINPERSID */
    case 'R': case 0x81: return op_reduce(u);  /* REDUCE, NEWOBJ */
    case 's': return op_setitem(u);            /* SETITEM */
    case 'u': return op_add_marked(u, VG_PK_DICT); /* SETITEMS */
    case 'a': return op_append(u);             /* APPEND */
    case 'e': return op_add_marked(u, VG_PK_LIST); /* APPENDS */
    case 'b': return op_build(u);              /* BUILD */
    case '0': return op_discard(u);            /* POP */
    case '1': return op_pop_mark(u);           /* POP_MARK */
    case '.': return op_stop(u);               /* STOP */
    default: return unknown_op(u, op);
    }
}

int vg_pickle_load(const uint8_t *buf, size_t len, vg_pickle **out, const vg_pk_value **root,
                   vg_error *err) {
    unpickler u = {.start = buf, .p = buf, .end = buf + len, .err = err};
    *out = NULL;
    *root = NULL;
    u.pk = calloc(1, sizeof *u.pk);
    int rc = u.pk ? VG_OK : vg_fail(err, VG_ERR_NOMEM, "out of memory reading data.pkl");
    while (rc == VG_OK && !u.result && u.p < u.end) rc = step(&u, *u.p++);
    if (rc == VG_OK && !u.result) rc = damaged(&u, "ends without STOP");
    free(u.stack);
    free(u.marks);
    free(u.memo);
    if (rc != VG_OK) {
        vg_pickle_free(u.pk);
        return rc;
    }
    *out = u.pk;
    *root = u.result;
    return VG_OK;
}

void vg_pickle_free(vg_pickle *pk) {
    if (!pk) return;
    for (vg_pk_value *v = pk->all, *next; v; v = next) {
        next = v->next_alloc;
        free(v->items);
        free(v);
    }
    free(pk);
}
