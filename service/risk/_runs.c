/* The learned model at screening time, compiled: which of the model's n-grams a text holds and how
 * many times each, the model's scores, and the words that pushed a score up (its evidence).
 * service/risk/model.py says what the numbers are and keeps a numpy reader and scorer that give the
 * same results; property tests (tests/risk/test_model.py) compare the two on any text.
 *
 * Every run of 2 to 6 characters of the model text and every run of one to three words gets its number
 * (features.char_code, model.LearnedModel._word_codes); each is looked up in a hash table of the model's
 * numbers, and the features found are sorted (a radix sort) and counted. Measured against numpy's
 * arrays (sort, binary search, ~20 array calls a text): tests/benchmarks/bench_risk.py.
 *
 * Pure computation on its arguments: no I/O, no global state, the GIL held throughout.
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
/* An empty slot of the hash table. */
#define EMPTY (-1)
/* A feature and the place of its first occurrence are packed in one number: the place in the low bits. */
#define PLACE_BITS 32
#define PLACE_MASK ((INT64_C(1) << PLACE_BITS) - 1)

/* The numbers of the model text's characters (features.py: _ALPHABET, numbered from 1; 0 for any
 * other character, which a model text never holds). */
static inline int64_t symbol_of(unsigned char c) {
    if (c == ' ') return 1;
    if (c >= 'a' && c <= 'z') return 2 + (c - 'a');
    if (c >= '0' && c <= '9') return 28 + (c - '0');
    return 0;
}

/* The hash table of the model's numbers (open addressing, linear probing): `slots` (a power of two)
 * pairs of int64, a number and its index among the model's sorted numbers, EMPTY where none is. */
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

/* The model text of a normalised text (features.model_text): its words (runs of a-z and 0-9) joined
 * by single spaces, with a space at each end; two spaces for a text without a word. Its size in `size`;
 * to be freed with PyMem_Free. NULL with an exception set on failure. */
static char *model_text_of(PyObject *normalized, Py_ssize_t *size) {
    /* Read character by character, never encoded: a text may hold anything a str can, lone surrogates
     * included, and only a-z and 0-9 are kept. */
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(normalized) < 0) return NULL;
#endif
    const Py_ssize_t length = PyUnicode_GET_LENGTH(normalized);
    const int kind = PyUnicode_KIND(normalized);
    const void *data = PyUnicode_DATA(normalized);
    char *out = PyMem_Malloc((size_t)length + 3);
    if (out == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    Py_ssize_t at = 0;
    int in_word = 0;
    out[at++] = ' ';
    for (Py_ssize_t i = 0; i < length; i++) {
        const Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            out[at++] = (char)c;
            in_word = 1;
        } else if (in_word) {
            out[at++] = ' ';
            in_word = 0;
        }
    }
    if (in_word || at == 1) out[at++] = ' ';
    *size = at;
    return out;
}

/* Sorts `size` numbers by their bits from PLACE_BITS up (non-negative, below `bound` once shifted), in
 * increasing order and keeping the order of equal ones: a radix sort, a byte at a time, least
 * significant first (a text's few hundred features, faster than comparing). `spare` has room for
 * `size` numbers; returns where the sorted numbers are (`values` or `spare`). */
static int64_t *sorted_in(int64_t *values, int64_t *spare, Py_ssize_t size, int64_t bound) {
    for (int shift = 0; shift < 63 - PLACE_BITS && (bound - 1) >> shift > 0; shift += 8) {
        Py_ssize_t starts[257] = {0};
        const int at = PLACE_BITS + shift;
        for (Py_ssize_t i = 0; i < size; i++) starts[((values[i] >> at) & 0xFF) + 1]++;
        for (int byte = 0; byte < 256; byte++) starts[byte + 1] += starts[byte];
        for (Py_ssize_t i = 0; i < size; i++) spare[starts[(values[i] >> at) & 0xFF]++] = values[i];
        int64_t *swap = values;
        values = spare;
        spare = swap;
    }
    return values;
}

/* read(text, vocabulary, table, word_codes) -> (ids, counts, firsts): `text` a normalised text, read
 * as its model text (" i want to go "), `vocabulary` the model's words and their places (dict str -> int; a word not in it
 * has the place len(vocabulary)), `table` the hash table of the model's numbers (`table()`),
 * `word_codes` the number of the first run of words (model.WORD_CODES). The three are int64 buffers
 * (bytes): the indexes among the model's numbers of the runs the text holds, in increasing order, how
 * many times each, and where each first occurs (the offset of its first character in the model text). */
static PyObject *read_runs(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *text, *vocabulary, *result = NULL;
    Py_buffer view;
    long long word_codes_arg;
    if (!PyArg_ParseTuple(args, "UO!y*L", &text, &PyDict_Type, &vocabulary, &view, &word_codes_arg)) return NULL;

    const int64_t *table = view.buf;
    const uint64_t slots = (uint64_t)view.len / (2 * sizeof(int64_t));
    const uint64_t mask = slots - 1;
    const int shift = shift_for(slots);
    const int64_t word_codes = (int64_t)word_codes_arg;
    const int64_t base = (int64_t)PyDict_GET_SIZE(vocabulary) + 1;
    Py_ssize_t length = 0;
    char *chars = model_text_of(text, &length);
    int64_t *places = NULL, *starts = NULL, *runs = NULL, *at = NULL, *counts = NULL;
    Py_ssize_t found = 0, words = 0;
    if (chars == NULL) goto done;
    if (slots < 2 || (slots & mask) != 0 || view.len != (Py_ssize_t)(slots * 2 * sizeof(int64_t))) {
        PyErr_SetString(PyExc_ValueError, "the table must be one made by table()");
        goto done;
    }
    if (length >= PLACE_MASK) {
        PyErr_SetString(PyExc_ValueError, "a text of 4 GB or more cannot be read");
        goto done;
    }
    /* At most: a run of each size of characters starting at each character, and three runs of words
     * starting at each word (a word is at least one character). */
    const size_t most = (size_t)length * (MAX_CHARS - MIN_CHARS + 1 + 3) + 1;
    places = PyMem_Malloc(sizeof(int64_t) * (size_t)(length + 1));
    starts = PyMem_Malloc(sizeof(int64_t) * (size_t)(length + 1));
    runs = PyMem_Malloc(sizeof(int64_t) * most);
    at = PyMem_Malloc(sizeof(int64_t) * most);
    if (places == NULL || starts == NULL || runs == NULL || at == NULL) {
        PyErr_NoMemory();
        goto done;
    }

    /* Runs of characters, across words, in the order of where they start. */
    for (Py_ssize_t start = 0; start + MIN_CHARS <= length; start++) {
        int64_t code = 0;
        for (Py_ssize_t n = 1; n <= MAX_CHARS && start + n <= length; n++) {
            code = code << BITS | symbol_of((unsigned char)chars[start + n - 1]);
            if (n >= MIN_CHARS) {
                runs[found] = code;
                at[found++] = start;
            }
        }
    }

    /* Words: their places in the vocabulary, then runs of one, two and three of them, in order. */
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
        starts[words++] = start;
        start = end;
    }
    for (Py_ssize_t i = 0; i < words; i++) {
        runs[found] = word_codes + places[i];
        at[found++] = starts[i];
    }
    for (Py_ssize_t i = 0; i + 1 < words; i++) {
        runs[found] = word_codes + base + places[i] * base + places[i + 1];
        at[found++] = starts[i];
    }
    for (Py_ssize_t i = 0; i + 2 < words; i++) {
        runs[found] = word_codes + base + base * base + (places[i] * base + places[i + 1]) * base + places[i + 2];
        at[found++] = starts[i];
    }

    /* Each run looked up in the table, the slot of a run a few places ahead fetched meanwhile (the
     * lookups wait on memory, not on the processor). A run the model has is kept as its feature's
     * index and its place, packed, written over the runs. */
    Py_ssize_t kept = 0;
    int64_t top = 0;
    for (Py_ssize_t i = 0; i < found; i++) {
        if (i + AHEAD < found) __builtin_prefetch(table + 2 * slot_of(runs[i + AHEAD], shift));
        int64_t id = find(table, mask, shift, runs[i]);
        if (id >= 0) {
            runs[kept++] = id << PLACE_BITS | at[i];
            if (id > top) top = id;
        }
    }

    /* The features found, once each in increasing order, with their counts and first places (the sort
     * keeps the order of equal features, and each feature's runs were listed from the first place on).
     * The sorted numbers are in `runs` or in `at`; either way, each is read before anything is written
     * at its place or after it (there are never more distinct features so far than numbers read). */
    const int64_t *sorted = sorted_in(runs, at, kept, top + 1);
    counts = PyMem_Malloc(sizeof(int64_t) * (size_t)(kept + 1));
    if (counts == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t *ids = sorted == runs ? at : runs, *firsts = places;
    if ((size_t)kept > (size_t)length + 1) {
        PyMem_Free(places);
        places = firsts = PyMem_Malloc(sizeof(int64_t) * (size_t)(kept + 1));
        if (places == NULL) {
            PyErr_NoMemory();
            goto done;
        }
    }
    Py_ssize_t distinct = 0;
    for (Py_ssize_t i = 0; i < kept; i++) {
        const int64_t id = sorted[i] >> PLACE_BITS;
        if (distinct > 0 && ids[distinct - 1] == id) {
            counts[distinct - 1]++;
        } else {
            ids[distinct] = id;
            counts[distinct] = 1;
            firsts[distinct] = sorted[i] & PLACE_MASK;
            distinct++;
        }
    }
    const Py_ssize_t bytes = distinct * (Py_ssize_t)sizeof(int64_t);
    result = Py_BuildValue("(y#y#y#)", (const char *)ids, bytes, (const char *)counts, bytes, (const char *)firsts,
                           bytes);

done:
    PyMem_Free(chars);
    PyMem_Free(counts);
    PyMem_Free(at);
    PyMem_Free(runs);
    PyMem_Free(starts);
    PyMem_Free(places);
    PyBuffer_Release(&view);
    return result;
}

/* 1 + ln(count), from the table `tf` (1 + ln(n) for n from 1) as far as it goes. */
static inline double factor_of(int64_t count, const double *tf, int64_t tf_size) {
    return count <= tf_size ? tf[count - 1] : 1.0 + log((double)count);
}

/* Checks the arguments shared by `score` and `evidence`: blocks that add up to the features, indexes
 * among the model's features, counts from 1. Returns 0, or -1 with an exception set. */
static int check_features(const Py_buffer *ids_view, const Py_buffer *counts_view, const Py_ssize_t sizes[3],
                          int64_t features) {
    const int64_t *ids = ids_view->buf, *counts = counts_view->buf;
    const Py_ssize_t size = ids_view->len / (Py_ssize_t)sizeof(int64_t);
    if (sizes[0] < 0 || sizes[1] < 0 || sizes[2] < 0 || sizes[0] + sizes[1] + sizes[2] != size ||
        counts_view->len != ids_view->len || ids_view->len % (Py_ssize_t)sizeof(int64_t) != 0) {
        PyErr_SetString(PyExc_ValueError, "ids and counts must hold as many int64 as the blocks' sizes");
        return -1;
    }
    for (Py_ssize_t i = 0; i < size; i++) {
        if (ids[i] < 0 || ids[i] >= features || counts[i] < 1) {
            PyErr_SetString(PyExc_ValueError, "a feature index or count out of range");
            return -1;
        }
    }
    return 0;
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
    const int64_t features = weights_view.len / (Py_ssize_t)(4 * sizeof(double));
    const int64_t tf_size = tf_view.len / (Py_ssize_t)sizeof(double);
    if (check_features(&ids_view, &counts_view, sizes, features) < 0) goto done;
    double total[3] = {0.0, 0.0, 0.0};
    Py_ssize_t at = 0;
    for (int block = 0; block < 3; block++) {
        if (sizes[block] == 0) continue;
        double sums[4] = {0.0, 0.0, 0.0, 0.0};
        for (Py_ssize_t end = at + sizes[block]; at < end; at++) {
            const double *row = weights + 4 * ids[at];
            const double factor = factor_of(counts[at], tf, tf_size);
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
    Py_ssize_t at;  /* a candidate: its place among the text's features; a span: its start in the text */
    Py_ssize_t end; /* a span: its end in the text */
} Pushed;

/* The stronger first; equally strong ones in the order of the features. */
static int stronger(const Pushed *x, const Pushed *y) {
    return x->value > y->value || (x->value == y->value && x->at < y->at);
}

/* The spans shown first: the larger value, then (as Python's sorted(..., reverse=True) of (value,
 * words)) the words that come last. */
static int shown_before(const Pushed *x, const Pushed *y, const char *text) {
    if (x->value != y->value) return x->value > y->value;
    Py_ssize_t a = x->end - x->at, b = y->end - y->at;
    int order = memcmp(text + x->at, text + y->at, (size_t)(a < b ? a : b));
    return order != 0 ? order > 0 : a > b;
}

/* evidence(text, ids, counts, firsts, sizes, weights, tf, lengths, level, candidates, shown)
 * -> [(words, value), ...]: the model's evidence for `level` (0, 1, 2) in a normalised text. Among the
 * features read from the text itself (the first two blocks; `firsts`: where each first occurs,
 * `lengths`: each feature's length in characters), the `candidates` that pushed the score of `level`
 * up the most (their share of the score, as `score` counts it), strongest first; each shown as the
 * whole words it lies in (from the space at or before its start to the space at or after its end);
 * what pushed the same words (the same text) added up, in that order; the `shown` strongest spans of words, strongest
 * first: their words, and how much they pushed (above 0). model.py, _evidence. */
static PyObject *evidence(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *text, *result = NULL;
    Py_buffer ids_view, counts_view, firsts_view, weights_view, tf_view, lengths_view;
    Py_ssize_t sizes[3], candidates, shown;
    int level;
    if (!PyArg_ParseTuple(args, "Uy*y*y*(nnn)y*y*y*inn", &text, &ids_view, &counts_view, &firsts_view, &sizes[0],
                          &sizes[1], &sizes[2], &weights_view, &tf_view, &lengths_view, &level, &candidates, &shown))
        return NULL;
    Pushed *pushed = NULL, *spans = NULL;
    const int64_t *ids = ids_view.buf, *counts = counts_view.buf, *firsts = firsts_view.buf;
    const int64_t *lengths = lengths_view.buf;
    const double *weights = weights_view.buf, *tf = tf_view.buf;
    const int64_t features = weights_view.len / (Py_ssize_t)(4 * sizeof(double));
    const int64_t tf_size = tf_view.len / (Py_ssize_t)sizeof(double);
    const Py_ssize_t read = sizes[0] + sizes[1];
    Py_ssize_t length = 0;
    char *chars = model_text_of(text, &length);
    if (chars == NULL || check_features(&ids_view, &counts_view, sizes, features) < 0) goto done;
    if (level < 0 || level > 2 || candidates < 0 || shown < 0 || firsts_view.len < read * (Py_ssize_t)sizeof(int64_t) ||
        lengths_view.len != features * (Py_ssize_t)sizeof(int64_t)) {
        PyErr_SetString(PyExc_ValueError, "evidence: arguments out of range");
        goto done;
    }
    pushed = PyMem_Malloc(sizeof(Pushed) * (size_t)(candidates + 1));
    spans = PyMem_Malloc(sizeof(Pushed) * (size_t)(candidates + 1));
    if (pushed == NULL || spans == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    /* The strongest candidates, kept in order by insertion (a few dozen among a few hundred). */
    Py_ssize_t kept = 0, at = 0;
    for (int block = 0; block < 2; block++) {
        const Py_ssize_t first = at, end = at + sizes[block];
        double squares = 0.0;
        for (; at < end; at++) {
            const double factor = factor_of(counts[at], tf, tf_size);
            squares += weights[4 * ids[at] + 3] * (factor * factor);
        }
        const double scale = 1.0 / sqrt(squares);
        for (at = first; at < end; at++) {
            const Pushed item = {weights[4 * ids[at] + level] * factor_of(counts[at], tf, tf_size) * scale, at, 0};
            if (!(item.value > 0) || (kept == candidates && !stronger(&item, &pushed[kept - 1]))) continue;
            Py_ssize_t place = kept < candidates ? kept++ : kept - 1;
            while (place > 0 && stronger(&item, &pushed[place - 1])) {
                pushed[place] = pushed[place - 1];
                place--;
            }
            pushed[place] = item;
        }
    }
    /* Each candidate as the words it lies in; the same words added up. */
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < kept; i++) {
        const Py_ssize_t start = (Py_ssize_t)firsts[pushed[i].at], size = (Py_ssize_t)lengths[ids[pushed[i].at]];
        if (start < 0 || size < 1 || start + size > length) {
            PyErr_SetString(PyExc_ValueError, "evidence: a feature outside the text");
            goto done;
        }
        Py_ssize_t from = start, to = start + size - 1;
        while (from > 0 && chars[from] != ' ') from--;
        if (chars[from] == ' ') from++;
        while (to < length && chars[to] != ' ') to++;
        Py_ssize_t same = 0;
        while (same < count && !(spans[same].end - spans[same].at == to - from &&
                                 memcmp(chars + spans[same].at, chars + from, (size_t)(to - from)) == 0))
            same++;
        if (same == count) spans[count++] = (Pushed){0.0, from, to};
        spans[same].value += pushed[i].value;
    }
    /* The spans shown, strongest first. */
    for (Py_ssize_t i = 1; i < count; i++) {
        const Pushed item = spans[i];
        Py_ssize_t place = i;
        while (place > 0 && shown_before(&item, &spans[place - 1], chars)) {
            spans[place] = spans[place - 1];
            place--;
        }
        spans[place] = item;
    }
    if (count > shown) count = shown;
    while (count > 0 && !(spans[count - 1].value > 0)) count--;
    result = PyList_New(count);
    if (result == NULL) goto done;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = Py_BuildValue("(s#d)", chars + spans[i].at, spans[i].end - spans[i].at, spans[i].value);
        if (item == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, i, item);
    }
done:
    PyMem_Free(chars);
    PyMem_Free(pushed);
    PyMem_Free(spans);
    PyBuffer_Release(&ids_view);
    PyBuffer_Release(&counts_view);
    PyBuffer_Release(&firsts_view);
    PyBuffer_Release(&weights_view);
    PyBuffer_Release(&tf_view);
    PyBuffer_Release(&lengths_view);
    return result;
}

static PyMethodDef methods[] = {
    {"table", build_table, METH_VARARGS, "table(codes) -> bytes: the hash table of the model's numbers."},
    {"read", read_runs, METH_VARARGS,
     "read(text, vocabulary, table, word_codes) -> (ids, counts, firsts): the model's runs a model text holds."},
    {"score", score, METH_VARARGS, "score(ids, counts, sizes, weights, tf) -> (low, moderate, high)."},
    {"evidence", evidence, METH_VARARGS,
     "evidence(text, ids, counts, firsts, sizes, weights, tf, lengths, level, candidates, shown) -> [(words, "
     "value)]."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_runs", "The learned risk model's reader and scorer, compiled.", -1, methods, NULL, NULL,
    NULL, NULL};

/* What model.py expects of this module: raise it whenever a function's arguments or results change,
 * so that a module built from an older copy of this file is not used (model.py then reads with numpy). */
#define READER_VERSION 1

PyMODINIT_FUNC PyInit__runs(void) {
    PyObject *created = PyModule_Create(&module);
    if (created != NULL && PyModule_AddIntConstant(created, "READER_VERSION", READER_VERSION) < 0) Py_CLEAR(created);
    return created;
}
