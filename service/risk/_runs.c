/* The learned model's reading of a text, compiled: which of the model's n-grams a text holds, and
 * how many times each (service/risk/model.py, LearnedModel._read, which says what the numbers are).
 *
 * It does exactly what the numpy reader in model.py does, in one pass without the ~20 array calls and
 * their temporary arrays: every run of 2 to 6 characters of the model text and every run of one to
 * three words gets its number, each number is looked up among the model's sorted numbers by binary
 * search, and the features found are counted. The numpy reader stays the reference: a property test
 * (tests/risk/test_model.py) checks that both give the same features and counts for any text.
 *
 * Pure computation on the arguments: no I/O, no global state, the GIL held throughout.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BITS 6
#define MIN_CHARS 2
#define MAX_CHARS 6
/* How many runs ahead the table's slot is fetched from memory. */
#define AHEAD 8

/* The numbers of the model text's characters (features.py: _ALPHABET, numbered from 1; 0 for any
 * other character, which a model text never holds). */
static int64_t symbol_of(unsigned char c) {
    if (c == ' ') return 1;
    if (c >= 'a' && c <= 'z') return 2 + (c - 'a');
    if (c >= '0' && c <= '9') return 28 + (c - '0');
    return 0;
}

/* The model's numbers are kept in a hash table (open addressing, linear probing): `slots` (a power of
 * two) pairs of int64, a number and its index among the model's sorted numbers, EMPTY where none is. */
#define EMPTY (-1)

static inline uint64_t slot_of(int64_t value, int shift) {
    return ((uint64_t)value * UINT64_C(0x9E3779B97F4A7C15)) >> shift; /* Fibonacci hashing: the top bits */
}

/* 64 minus the number of bits of a slot (`slots`: a power of two from 2). */
static int shift_for(uint64_t slots) {
    int shift = 64;
    while (slots > 1) {
        slots >>= 1;
        shift--;
    }
    return shift;
}

/* The index of `value` among the model's numbers, or -1 when the model has no such run. */
static inline int64_t find(const int64_t *table, uint64_t mask, int shift, int64_t value) {
    for (uint64_t slot = slot_of(value, shift);; slot = (slot + 1) & mask) {
        int64_t key = table[2 * slot];
        if (key == value) return table[2 * slot + 1];
        if (key == EMPTY) return -1;
    }
}

/* table(codes) -> bytes: the hash table of the model's numbers (a buffer of distinct, non-negative
 * int64), at most half full. */
static PyObject *build_table(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view)) return NULL;
    const int64_t *codes = view.buf;
    Py_ssize_t size = view.len / (Py_ssize_t)sizeof(int64_t);
    uint64_t slots = 16;
    while (slots < 2 * (uint64_t)size + 1) slots *= 2;
    PyObject *result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(slots * 2 * sizeof(int64_t)));
    if (result == NULL) goto done;
    int64_t *table = (int64_t *)PyBytes_AS_STRING(result);
    const int shift = shift_for(slots);
    for (uint64_t slot = 0; slot < slots; slot++) table[2 * slot] = EMPTY;
    for (Py_ssize_t i = 0; i < size; i++) {
        if (codes[i] < 0) {
            Py_CLEAR(result);
            PyErr_SetString(PyExc_ValueError, "the model's numbers must not be negative");
            goto done;
        }
        uint64_t slot = slot_of(codes[i], shift);
        while (table[2 * slot] != EMPTY && table[2 * slot] != codes[i]) slot = (slot + 1) & (slots - 1);
        table[2 * slot] = codes[i];
        table[2 * slot + 1] = i;
    }
done:
    PyBuffer_Release(&view);
    return result;
}

/* Sorts `size` non-negative numbers below `bound` in increasing order (a radix sort, a byte at a time,
 * least significant first: a text's few hundred features, faster than comparing), using `spare`
 * (room for `size` numbers); returns where the sorted numbers are (`values` or `spare`). */
static int64_t *sorted_in(int64_t *values, int64_t *spare, Py_ssize_t size, int64_t bound) {
    for (int shift = 0; shift < 63 && (bound - 1) >> shift > 0; shift += 8) {
        Py_ssize_t starts[257] = {0};
        for (Py_ssize_t i = 0; i < size; i++) starts[((values[i] >> shift) & 0xFF) + 1]++;
        for (int digit = 0; digit < 256; digit++) starts[digit + 1] += starts[digit];
        for (Py_ssize_t i = 0; i < size; i++) spare[starts[(values[i] >> shift) & 0xFF]++] = values[i];
        int64_t *swap = values;
        values = spare;
        spare = swap;
    }
    return values;
}

/* Adds the index of `value` to `hits` when the model has it. */
#define LOOK_UP(value)                                          \
    do {                                                        \
        int64_t at_ = find(table, mask, shift, (value));        \
        if (at_ >= 0) hits[found++] = at_;                      \
    } while (0)

/* read(text, vocabulary, codes, word_codes) -> (ids, counts): `text` a model text (" i want to go "),
 * `vocabulary` its words' places (dict str -> int; a word not in it has the place len(vocabulary)),
 * `codes` the model's numbers (a buffer of sorted int64, the last one above all), `word_codes` the
 * number of the first run of words (model.WORD_CODES). `ids` and `counts` are int64 buffers (bytes):
 * the indexes in `codes` of the runs the text holds, in increasing order, and how many times each. */
static PyObject *read_runs(PyObject *self, PyObject *args) {
    PyObject *text, *vocabulary, *result = NULL;
    Py_buffer view;
    long long word_codes_arg;
    if (!PyArg_ParseTuple(args, "UO!y*L", &text, &PyDict_Type, &vocabulary, &view, &word_codes_arg)) return NULL;

    (void)self;
    const int64_t *table = view.buf;
    const uint64_t slots = (uint64_t)view.len / (2 * sizeof(int64_t));
    const uint64_t mask = slots - 1;
    const int shift = shift_for(slots);
    const int64_t word_codes = (int64_t)word_codes_arg;
    const int64_t base = (int64_t)PyDict_GET_SIZE(vocabulary) + 1;
    Py_ssize_t length;
    const char *chars = PyUnicode_AsUTF8AndSize(text, &length);
    int64_t *places = NULL, *runs = NULL, *counts = NULL;
    Py_ssize_t found = 0, words = 0;
    if (chars == NULL) goto done;
    if (slots < 2 || (slots & mask) != 0 || view.len != (Py_ssize_t)(slots * 2 * sizeof(int64_t))) {
        PyErr_SetString(PyExc_ValueError, "the table must be one made by table()");
        goto done;
    }
    /* At most: runs of each size of characters starting at each character, and three runs of words
     * starting at each word (a word is at least one character). */
    places = PyMem_Malloc(sizeof(int64_t) * (size_t)(length + 1));
    runs = PyMem_Malloc(sizeof(int64_t) * (size_t)(length * (MAX_CHARS - MIN_CHARS + 1 + 3) + 1));
    if (places == NULL || runs == NULL) {
        PyErr_NoMemory();
        goto done;
    }

    /* Runs of characters, across words. */
    for (Py_ssize_t start = 0; start + MIN_CHARS <= length; start++) {
        int64_t code = 0;
        for (Py_ssize_t n = 1; n <= MAX_CHARS && start + n <= length; n++) {
            code = code << BITS | symbol_of((unsigned char)chars[start + n - 1]);
            if (n >= MIN_CHARS) runs[found++] = code;
        }
    }

    /* Words: their places in the vocabulary, then runs of one, two and three of them. */
    for (Py_ssize_t start = 0; start < length;) {
        while (start < length && chars[start] == ' ') start++;
        Py_ssize_t end = start;
        while (end < length && chars[end] != ' ') end++;
        if (end == start) break;
        PyObject *word = PyUnicode_FromStringAndSize(chars + start, end - start);
        if (word == NULL) goto done;
        PyObject *place = PyDict_GetItemWithError(vocabulary, word);
        Py_DECREF(word);
        if (place == NULL && PyErr_Occurred()) goto done;
        places[words] = place == NULL ? base - 1 : (int64_t)PyLong_AsLongLong(place);
        if (places[words] == -1 && PyErr_Occurred()) goto done;
        words++;
        start = end;
    }
    for (Py_ssize_t i = 0; i < words; i++) runs[found++] = word_codes + places[i];
    for (Py_ssize_t i = 0; i + 1 < words; i++) runs[found++] = word_codes + base + places[i] * base + places[i + 1];
    for (Py_ssize_t i = 0; i + 2 < words; i++)
        runs[found++] = word_codes + base + base * base + (places[i] * base + places[i + 1]) * base + places[i + 2];

    /* Each run looked up in the table, the slot of a run a few places ahead fetched meanwhile (the
     * lookups wait on memory, not on the processor); the indexes found are written over the runs. */
    Py_ssize_t kept = 0;
    int64_t top = 0;
    for (Py_ssize_t i = 0; i < found; i++) {
        if (i + AHEAD < found) __builtin_prefetch(table + 2 * slot_of(runs[i + AHEAD], shift));
        int64_t at = find(table, mask, shift, runs[i]);
        if (at >= 0) {
            runs[kept++] = at;
            if (at > top) top = at;
        }
    }
    found = kept;

    /* The features found, once each in increasing order, with their counts: the sorted indexes are in
     * `runs` or in `counts`; either way, each is read before anything is written at its place or
     * after (the distinct ones so far are never more than the ones read). */
    counts = PyMem_Malloc(sizeof(int64_t) * (size_t)(found + 1));
    if (counts == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    const int64_t *hits = sorted_in(runs, counts, found, top + 1);
    Py_ssize_t distinct = 0;
    for (Py_ssize_t i = 0; i < found; i++) {
        const int64_t id = hits[i];
        if (distinct > 0 && runs[distinct - 1] == id) {
            counts[distinct - 1]++;
        } else {
            runs[distinct] = id;
            counts[distinct] = 1;
            distinct++;
        }
    }
    result = Py_BuildValue(
        "(y#y#)", (const char *)runs, distinct * (Py_ssize_t)sizeof(int64_t), (const char *)counts,
        distinct * (Py_ssize_t)sizeof(int64_t));

done:
    PyMem_Free(counts);
    PyMem_Free(places);
    PyMem_Free(runs);
    PyBuffer_Release(&view);
    return result;
}

/* score(ids, counts, sizes, weights, tf) -> (low, moderate, high): the model's weighted sums of a
 * text's features. `ids` and `counts` (int64 buffers): the features, in blocks of `sizes` (runs of
 * characters, runs of words, the rules' findings), each block in increasing order; `weights` (float64,
 * four per feature): its weight per level times its idf, then its idf squared; `tf` (float64): 1 + ln(n)
 * for n from 1 (1 + ln(n) is worked out past its end). Each block's features count as their weight
 * times 1 + ln(count), and the block is scaled to unit length (its idf times 1 + ln(count)); the
 * blocks are added up in order. Screening and training both score with this function (model.py), so
 * the two agree to the last bit. */
static PyObject *score(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer ids_view, counts_view, weights_view, tf_view;
    Py_ssize_t sizes[3];
    if (!PyArg_ParseTuple(args, "y*y*(nnn)y*y*", &ids_view, &counts_view, &sizes[0], &sizes[1], &sizes[2],
                          &weights_view, &tf_view))
        return NULL;
    PyObject *result = NULL;
    const int64_t *ids = ids_view.buf, *counts = counts_view.buf;
    const double *weights = weights_view.buf, *tf = tf_view.buf;
    const Py_ssize_t size = ids_view.len / (Py_ssize_t)sizeof(int64_t);
    const int64_t features = weights_view.len / (Py_ssize_t)(4 * sizeof(double));
    const int64_t tf_size = tf_view.len / (Py_ssize_t)sizeof(double);
    if (sizes[0] < 0 || sizes[1] < 0 || sizes[2] < 0 || sizes[0] + sizes[1] + sizes[2] != size ||
        counts_view.len != ids_view.len) {
        PyErr_SetString(PyExc_ValueError, "ids and counts must hold as many int64 as the blocks' sizes");
        goto done;
    }
    double total[3] = {0.0, 0.0, 0.0};
    Py_ssize_t at = 0;
    for (int block = 0; block < 3; block++) {
        if (sizes[block] == 0) continue;
        double sums[4] = {0.0, 0.0, 0.0, 0.0};
        for (Py_ssize_t end = at + sizes[block]; at < end; at++) {
            if (ids[at] < 0 || ids[at] >= features || counts[at] < 1) {
                PyErr_SetString(PyExc_ValueError, "a feature index or count out of range");
                goto done;
            }
            const double *row = weights + 4 * ids[at];
            const double factor = counts[at] <= tf_size ? tf[counts[at] - 1] : 1.0 + log((double)counts[at]);
            sums[0] += row[0] * factor;
            sums[1] += row[1] * factor;
            sums[2] += row[2] * factor;
            sums[3] += row[3] * (factor * factor);
        }
        const double length = sqrt(sums[3]);
        for (int level = 0; level < 3; level++) total[level] += sums[level] / length;
    }
    result = Py_BuildValue("(ddd)", total[0], total[1], total[2]);
done:
    PyBuffer_Release(&ids_view);
    PyBuffer_Release(&counts_view);
    PyBuffer_Release(&weights_view);
    PyBuffer_Release(&tf_view);
    return result;
}

typedef struct {
    double value;
    Py_ssize_t at;
} Pushed;

/* Larger values first; equal values in the order of the features. */
static int by_push(const void *a, const void *b) {
    const Pushed *x = a, *y = b;
    if (x->value != y->value) return x->value < y->value ? 1 : -1;
    return (x->at > y->at) - (x->at < y->at);
}

/* strongest(ids, counts, sizes, weights, tf, level, limit) -> [(value, at), ...]: the features read
 * from the text itself (the first two blocks) that pushed the score of `level` (0, 1, 2) up the most,
 * at most `limit` of them, strongest first: how much (the feature's share of the score, as `score`
 * counts it) and its place in `ids`. The model's evidence (model.py, _evidence). */
static PyObject *strongest(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer ids_view, counts_view, weights_view, tf_view;
    Py_ssize_t sizes[3], limit;
    int level;
    if (!PyArg_ParseTuple(args, "y*y*(nnn)y*y*in", &ids_view, &counts_view, &sizes[0], &sizes[1], &sizes[2],
                          &weights_view, &tf_view, &level, &limit))
        return NULL;
    PyObject *result = NULL;
    Pushed *pushed = NULL;
    const int64_t *ids = ids_view.buf, *counts = counts_view.buf;
    const double *weights = weights_view.buf, *tf = tf_view.buf;
    const Py_ssize_t size = ids_view.len / (Py_ssize_t)sizeof(int64_t);
    const int64_t features = weights_view.len / (Py_ssize_t)(4 * sizeof(double));
    const int64_t tf_size = tf_view.len / (Py_ssize_t)sizeof(double);
    if (sizes[0] < 0 || sizes[1] < 0 || sizes[2] < 0 || sizes[0] + sizes[1] + sizes[2] != size ||
        counts_view.len != ids_view.len || level < 0 || level > 2 || limit < 0) {
        PyErr_SetString(PyExc_ValueError, "ids and counts must hold as many int64 as the blocks' sizes");
        goto done;
    }
    pushed = PyMem_Malloc(sizeof(Pushed) * (size_t)(sizes[0] + sizes[1] + 1));
    if (pushed == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t positive = 0, at = 0;
    for (int block = 0; block < 2; block++) {
        const Py_ssize_t first = at, end = at + sizes[block];
        double length = 0.0;
        for (; at < end; at++) {
            if (ids[at] < 0 || ids[at] >= features || counts[at] < 1) {
                PyErr_SetString(PyExc_ValueError, "a feature index or count out of range");
                goto done;
            }
            const double factor = counts[at] <= tf_size ? tf[counts[at] - 1] : 1.0 + log((double)counts[at]);
            length += weights[4 * ids[at] + 3] * (factor * factor);
        }
        const double scale = 1.0 / sqrt(length);
        for (at = first; at < end; at++) {
            const double factor = counts[at] <= tf_size ? tf[counts[at] - 1] : 1.0 + log((double)counts[at]);
            const double value = weights[4 * ids[at] + level] * factor * scale;
            if (value > 0) pushed[positive++] = (Pushed){value, at};
        }
    }
    qsort(pushed, (size_t)positive, sizeof(Pushed), by_push);
    if (positive > limit) positive = limit;
    result = PyList_New(positive);
    if (result == NULL) goto done;
    for (Py_ssize_t i = 0; i < positive; i++) {
        PyObject *item = Py_BuildValue("(dn)", pushed[i].value, pushed[i].at);
        if (item == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, i, item);
    }
done:
    PyMem_Free(pushed);
    PyBuffer_Release(&ids_view);
    PyBuffer_Release(&counts_view);
    PyBuffer_Release(&weights_view);
    PyBuffer_Release(&tf_view);
    return result;
}

static PyMethodDef methods[] = {
    {"table", build_table, METH_VARARGS, "table(codes) -> bytes: the hash table of the model's numbers."},
    {"score", score, METH_VARARGS, "score(ids, counts, sizes, weights, tf) -> (low, moderate, high)."},
    {"strongest", strongest, METH_VARARGS, "strongest(ids, counts, sizes, weights, tf, level, limit) -> [(value, at)]."},
    {"read", read_runs, METH_VARARGS,
     "read(text, vocabulary, codes, word_codes) -> (ids, counts): the model's runs a model text holds."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_runs", "The learned model's reading, compiled.", -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__runs(void) { return PyModule_Create(&module); }
