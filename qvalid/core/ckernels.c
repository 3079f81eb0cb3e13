/*
 * qvalid.core.ckernels: compiled versions of qvalid's R-exact sequential loops (issue 24).
 *
 * Every function here does the same IEEE operations, in the same order, as the numpy code it replaces
 * (qvalid/core/kernels.py names each one), so the results are the same bits; tests/test_kernels.py runs both paths on
 * the same inputs and compares the bytes. What that needs:
 *   - no contraction of a*b+c into fused multiply-adds (setup.py compiles with -ffp-contract=off, and x86-64's
 *     baseline has no FMA instructions anyway), no -ffast-math;
 *   - long double is the x87 80-bit format numpy's longdouble uses on x86-64 Linux (checked at import);
 *   - numpy's summation orders, reproduced: axis-0 reductions of a C-ordered matrix add row after row starting
 *     from 0; a contiguous 1-D sum is numpy's pairwise sum over blocks of 8192 (np_sum below); add.accumulate
 *     starts from the first element; matrix products with reference BLAS add term after term from 0 (the Gram
 *     matrices, z-scores and characteristics loop themselves; kernels.py checks at import that numpy's products
 *     and sums are these, else the compiled path stays off);
 *   - BLAS and LAPACK (dgemm, dgesdd) are called through scipy's own function pointers
 *     (scipy.linalg.cython_blas / cython_lapack), i.e. the same library routines, with the arguments numpy's
 *     cblas_dgemm(RowMajor, ...) and scipy's f2py wrappers pass.
 *   - NaN: which of two NaN operands an operation returns (their signs differ: numpy's np.nan is positive, x86's
 *     0/0 negative) depends on how numpy's SIMD loops order their operands, so a kernel whose input has a NaN
 *     (or an infinity that could make one) returns "not done" and the numpy code runs; a NaN a kernel makes
 *     itself (one operand, 0/0) is the same in both.
 * Arrays come in through the buffer protocol (C-contiguous float64; the Python side checks and allocates), so
 * this file needs no numpy headers.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

typedef void (*dgemm_t)(char *, char *, int *, int *, int *, double *, double *, int *, double *, int *, double *,
                        double *, int *);
typedef void (*dgesdd_t)(char *, int *, int *, double *, int *, double *, double *, int *, double *, int *,
                         double *, int *, int *, int *);

static dgemm_t p_dgemm = NULL;
static dgesdd_t p_dgesdd = NULL;

typedef long double LD;

/* ------------------------------------------------------------------------------------------------ helpers */

/* numpy 1.24's pairwise sum of a contiguous run (numpy/core/src/umath/loops_utils.h.src, pairwise_sum) */
static double pairwise(const double *a, Py_ssize_t n)
{
    if (n < 8) {
        double res = 0.;
        for (Py_ssize_t i = 0; i < n; i++) res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        Py_ssize_t i;
        for (int j = 0; j < 8; j++) r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    Py_ssize_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise(a, n2) + pairwise(a + n2, n - n2);
}

/* numpy's a.sum() of a contiguous 1-D double array: 0 + the pairwise sums of blocks of 8192 (the buffer size) */
static double np_sum(const double *a, Py_ssize_t n)
{
    double res = 0.;
    for (Py_ssize_t s = 0; s < n; s += 8192) res += pairwise(a + s, n - s < 8192 ? n - s : 8192);
    return res;
}

/* numpy's argmin: the first minimum, or the first NaN */
static Py_ssize_t np_argmin(const double *a, Py_ssize_t n)
{
    double mp = a[0];
    Py_ssize_t k = 0;
    if (mp != mp) return 0;
    for (Py_ssize_t i = 1; i < n; i++) {
        if (!(a[i] >= mp)) {
            mp = a[i];
            k = i;
            if (mp != mp) break;
        }
    }
    return k;
}

/* np.maximum.reduce(np.abs(a), initial=init): NaN propagates */
static double max_abs(const double *a, Py_ssize_t n, double init)
{
    double mx = init;
    for (Py_ssize_t i = 0; i < n; i++) {
        double v = fabs(a[i]);
        if (v != v) return v;
        if (v > mx) mx = v;
    }
    return mx;
}

/* sequential long double sum from the first element (np.add.accumulate(a, dtype=longdouble)[-1]), rounded */
static double seqsum_ld(const double *a, Py_ssize_t n)
{
    LD acc = (LD)a[0];
    for (Py_ssize_t i = 1; i < n; i++) acc += (LD)a[i];
    return (double)acc;
}

/* qvalid.rsum.colsums: R's colSums in long double, rows added in order from 0; with sign, of S m S */
static void colsums_ld(const double *m, Py_ssize_t n, const double *sign, double *out)
{
    Py_ssize_t j = 0;
    for (; j + 4 <= n; j += 4) {
        LD a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        if (sign) {
            for (Py_ssize_t i = 0; i < n; i++) {
                const double *row = m + i * n + j;
                double s = sign[i];
                a0 += (LD)(row[0] * s);
                a1 += (LD)(row[1] * s);
                a2 += (LD)(row[2] * s);
                a3 += (LD)(row[3] * s);
            }
            out[j] = sign[j] * (double)a0;
            out[j + 1] = sign[j + 1] * (double)a1;
            out[j + 2] = sign[j + 2] * (double)a2;
            out[j + 3] = sign[j + 3] * (double)a3;
        } else {
            for (Py_ssize_t i = 0; i < n; i++) {
                const double *row = m + i * n + j;
                a0 += (LD)row[0];
                a1 += (LD)row[1];
                a2 += (LD)row[2];
                a3 += (LD)row[3];
            }
            out[j] = (double)a0;
            out[j + 1] = (double)a1;
            out[j + 2] = (double)a2;
            out[j + 3] = (double)a3;
        }
    }
    for (; j < n; j++) {
        LD a0 = 0;
        for (Py_ssize_t i = 0; i < n; i++) a0 += (LD)(sign ? m[i * n + j] * sign[i] : m[i * n + j]);
        out[j] = sign ? sign[j] * (double)a0 : (double)a0;
    }
}

/* m.sum(axis=0) of a C-ordered double matrix: rows added in order from 0 */
static void colsums_d(const double *m, Py_ssize_t n, double *out)
{
    for (Py_ssize_t j = 0; j < n; j++) out[j] = 0.;
    for (Py_ssize_t i = 0; i < n; i++) {
        const double *row = m + i * n;
        for (Py_ssize_t j = 0; j < n; j++) out[j] += row[j];
    }
}


/* x.sum(axis=0) of a C-ordered (m, n) double matrix: rows added in order from 0 */
static void colsums_rect(const double *x, Py_ssize_t m, Py_ssize_t n, double *out)
{
    for (Py_ssize_t j = 0; j < n; j++) out[j] = 0.;
    for (Py_ssize_t l = 0; l < m; l++)
        for (Py_ssize_t j = 0; j < n; j++) out[j] += x[l * n + j];
}

/*
 * out[j] = numpy's column sums a.sum(axis=0) of a C-ordered (m, k) matrix: rows added in order from 0, except for
 * k = 1, where the column is contiguous and numpy sums it pairwise (np_sum)
 */
static void colsums_np(const double *a, Py_ssize_t m, Py_ssize_t k, double *out)
{
    if (k == 1) {
        out[0] = np_sum(a, m);
        return;
    }
    for (Py_ssize_t j = 0; j < k; j++) out[j] = 0.;
    for (Py_ssize_t i = 0; i < m; i++)
        for (Py_ssize_t j = 0; j < k; j++) out[j] += a[i * k + j];
}

/* ------------------------------------------------------------------------------------------ buffer glue */

/*
 * One array argument of a kernel: what it must be, then (once buf_arg has converted it) its buffer. Every array is
 * C-contiguous, of ndim dimensions and items fmt: 'd' float64, 'l' int64 ("q" accepted), '?' bool, or 'n' float64
 * or int64 (buf_arg then sets fmt to 'd' or 'l', what it is; name is "kernel: x", that kind's message names the
 * kernel). A kernel keeps its arguments in one array, buf_t buf[] = {ARG(...), ...}, released together at its one
 * exit (release_all), whether or not each was converted.
 */
typedef struct {
    const char *name;
    char fmt;
    int ndim, flags;
    Py_buffer view;
    int held;
} buf_t;

enum { RO = 0, WR = 1, OPT = 2 }; /* flags: read only; written by the kernel; may be None (then not held) */
#define ARG(name_, fmt_, ndim_, flags_) {.name = (name_), .fmt = (fmt_), .ndim = (ndim_), .flags = (flags_)}
#define NBUF(buf) ((int)(sizeof(buf) / sizeof((buf)[0])))

/* PyArg_ParseTuple's "O&" converter for a buf_t: 1, or 0 with the error set (a buffer taken is released later) */
static int buf_arg(PyObject *obj, void *p)
{
    buf_t *b = p;
    if (obj == Py_None && (b->flags & OPT)) return 1;
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | ((b->flags & WR) ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &b->view, flags) < 0) return 0;
    b->held = 1;
    const char *f = b->view.format;
    if (f && (f[0] == '<' || f[0] == '=' || f[0] == '@')) f++;
    int isd = f && strcmp(f, "d") == 0, isl = f && (strcmp(f, "l") == 0 || strcmp(f, "q") == 0);
    int ok = b->view.ndim == b->ndim;
    if (b->fmt == '?')
        ok = ok && f && strcmp(f, "?") == 0 && b->view.itemsize == 1;
    else
        ok = ok && (b->fmt == 'd' ? isd : b->fmt == 'l' ? isl : isd || isl) && b->view.itemsize == 8;
    if (!ok && b->fmt == 'n') {
        PyErr_Format(PyExc_ValueError, "ckernels.%s must be a C-contiguous float64 or int64 matrix", b->name);
        return 0;
    }
    if (!ok) {
        PyErr_Format(PyExc_ValueError, "ckernels: %s must be a C-contiguous array of %d dimensions and type %c",
                     b->name, b->ndim, b->fmt);
        return 0;
    }
    if (b->fmt == 'n') b->fmt = isd ? 'd' : 'l';
    return 1;
}

static void release_all(buf_t *buf, int n)
{
    for (int i = 0; i < n; i++) {
        if (buf[i].held) PyBuffer_Release(&buf[i].view);
        buf[i].held = 0;
    }
}

#define SHAPE(b, i) ((b).view.shape[(i)])
#define DATA(b) ((double *)(b).view.buf)

/* is b (d0, d1) (one dimension: (d0,)) */
static int has_shape(const buf_t *b, Py_ssize_t d0, Py_ssize_t d1)
{
    return b->view.shape[0] == d0 && (b->view.ndim < 2 || b->view.shape[1] == d1);
}

#define SHAPES "shapes do not match"

/* when bad, the ValueError "ckernels.<kernel>: <what>"; returns bad */
static int refuse(int bad, const char *kernel, const char *what)
{
    if (bad) PyErr_Format(PyExc_ValueError, "ckernels.%s: %s", kernel, what);
    return bad;
}

/* no NaN and no infinity in a[0..n) (the kernels that would meet one leave the work to the numpy code) */
static int all_finite(const double *a, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++)
        if (!isfinite(a[i])) return 0;
    return 1;
}

static PyObject *new_none(void)
{
    Py_RETURN_NONE;
}

/* --------------------------------------------------------------------------------------------- varimax */

/* row-major C (rows x cols) = A (rows x inner) B (inner x cols), both row-major: numpy's a.dot(b), i.e.
 * cblas_dgemm(RowMajor, NoTrans, NoTrans, ...) = dgemm('N', 'N', cols, rows, inner, 1, B, cols, A, inner, 0, C, cols) */
static void mm_nn(const double *a, const double *b, double *c, int rows, int inner, int cols)
{
    char n = 'N';
    double one = 1.0, zero = 0.0;
    int ldb = cols, lda = inner, ldc = cols;
    p_dgemm(&n, &n, &cols, &rows, &inner, &one, (double *)b, &ldb, (double *)a, &lda, &zero, c, &ldc);
}

/*
 * varimax(x, z_out, tt_out, sc_or_None, eps, max_iter, normalize) -> (n_iter, converged, info)
 *
 * qvalid.core.rotate._varimax_one, operation for operation: x (p, k) the (normalised) loadings; returns the rotation
 * matrix in tt_out and the rotated loadings x @ tt (times sc row-wise when sc is given) in z_out. With normalize,
 * x is the raw loadings and Kaiser's normalisation is done here as qvalid.core.rotate.varimax does it. info != 0:
 * the SVD failed (LAPACK info), nothing else is valid.
 */
static PyObject *k_varimax(PyObject *self, PyObject *args)
{
    double eps;
    long max_iter;
    int normalize;
    buf_t buf[] = {ARG("x", 'd', 2, RO), ARG("z", 'd', 2, WR), ARG("tt", 'd', 2, WR), ARG("sc", 'd', 2, OPT)};
    PyObject *res = NULL;
    double *mem = NULL;
    int *iwork = NULL;
    if (!PyArg_ParseTuple(args, "O&O&O&O&dlp", buf_arg, &buf[0], buf_arg, &buf[1], buf_arg, &buf[2], buf_arg,
                          &buf[3], &eps, &max_iter, &normalize))
        goto done;
    int p = (int)SHAPE(buf[0], 0), k = (int)SHAPE(buf[0], 1);
    if (refuse(!has_shape(&buf[1], p, k) || !has_shape(&buf[2], k, k) || (buf[3].held && !has_shape(&buf[3], p, 1)) ||
                   k < 1 || p < 1,
               "varimax", SHAPES))
        goto done;
    const double *x = DATA(buf[0]);
    double *z = DATA(buf[1]), *tt = DATA(buf[2]);
    if (!all_finite(x, (Py_ssize_t)p * k)) {
        res = new_none(); /* not done: the numpy code */
        goto done;
    }
    int lwork = 4 * k * k + k + 9 * k; /* scipy's f2py default for dgesdd (compute_uv, full_matrices) */
    if (lwork < 1) lwork = 1;
    size_t nd = (size_t)p * k * 3 + p + (size_t)k * k * 4 + k + lwork;
    mem = malloc(nd * sizeof(double));
    iwork = malloc(8 * (size_t)k * sizeof(int));
    if (!mem || !iwork) {
        PyErr_NoMemory();
        goto done;
    }
    double *w = mem, *zz = w + (size_t)p * k, *bb = zz + (size_t)p * k, *a = bb + k * k, *u = a + k * k,
           *vt = u + k * k, *s = vt + k * k, *work = s + k, *xn = work + lwork, *scn = xn + (size_t)p * k;
    const double *sc = buf[3].held ? DATA(buf[3]) : NULL;
    long it = 0;
    int converged = 0, info = 0;
    double d = 0.0;
    Py_BEGIN_ALLOW_THREADS
    if (normalize) { /* qvalid.core.rotate.varimax: sc = sqrt((x * x).sum(axis=-1)) (a contiguous row: np_sum), x / sc */
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < k; j++) w[j] = x[i * k + j] * x[i * k + j];
            scn[i] = sqrt(np_sum(w, k));
            for (int j = 0; j < k; j++) xn[i * k + j] = x[i * k + j] / scn[i];
        }
        x = xn;
        sc = scn;
    }
    for (int i = 0; i < k * k; i++) tt[i] = 0.0;
    for (int i = 0; i < k; i++) tt[i * k + i] = 1.0;
    char jobz = 'A', cn = 'N', ct = 'T';
    double one = 1.0, zero = 0.0;
    for (it = 1; it <= max_iter; it++) {
        mm_nn(x, tt, zz, p, k, k); /* x.dot(tt, out=z) */
        for (int i = 0; i < p * k; i++) w[i] = zz[i] * zz[i];
        for (int j = 0; j < k; j++) { /* w -= np.add.reduce(w, axis=0) / p */
            double c = 0.;
            for (int i = 0; i < p; i++) c += w[i * k + j];
            c = c / p;
            for (int i = 0; i < p; i++) w[i * k + j] = w[i * k + j] - c;
        }
        for (int i = 0; i < p * k; i++) w[i] = w[i] * zz[i]; /* w *= z */
        /* xt.dot(w), xt = x.T (Fortran-ordered): cblas_dgemm(RowMajor, Trans, NoTrans, k, k, p, 1, x, k, w, k, 0,
         * B, k) = dgemm('N', 'T', k, k, p, 1, w, k, x, k, 0, B, k) */
        p_dgemm(&cn, &ct, &k, &k, &p, &one, w, &k, (double *)x, &k, &zero, bb, &k);
        for (int i = 0; i < k; i++) /* f2py copies the C-ordered B into Fortran order */
            for (int j = 0; j < k; j++) a[i + j * k] = bb[i * k + j];
        p_dgesdd(&jobz, &k, &k, a, &k, s, u, &k, vt, &k, work, &lwork, iwork, &info);
        if (info) break;
        /* tt = u.dot(vt), both Fortran-ordered: cblas_dgemm(RowMajor, Trans, Trans, ..., u, k, vt, k, ...)
         * = dgemm('T', 'T', k, k, k, 1, vt, k, u, k, 0, tt, k) */
        p_dgemm(&ct, &ct, &k, &k, &k, &one, vt, &k, u, &k, &zero, tt, &k);
        double d_past = d;
        if (k < 8) { /* the Python loop over s.tolist() */
            d = 0.0;
            for (int i = 0; i < k; i++) d += s[i];
        } else {
            d = np_sum(s, k);
        }
        if (d < d_past * (1.0 + eps)) {
            converged = 1;
            break;
        }
    }
    if (it > max_iter) it = max_iter;
    if (!info) {
        mm_nn(x, tt, z, p, k, k); /* z = x @ tt */
        if (sc) {
            for (int i = 0; i < p; i++)
                for (int j = 0; j < k; j++) z[i * k + j] *= sc[i];
        }
    }
    Py_END_ALLOW_THREADS
    res = Py_BuildValue("lii", it, converged, info);
done:
    free(mem);
    free(iwork);
    release_all(buf, NBUF(buf));
    return res;
}

/* -------------------------------------------------------------------------------------------- centroid */

typedef struct {
    Py_ssize_t *a;
    Py_ssize_t len, cap;
} ivec;

static int ivec_push(ivec *v, Py_ssize_t x)
{
    if (v->len == v->cap) {
        Py_ssize_t cap = v->cap ? 2 * v->cap : 64;
        Py_ssize_t *na = realloc(v->a, cap * sizeof(Py_ssize_t));
        if (!na) return -1;
        v->a = na;
        v->cap = cap;
    }
    v->a[v->len++] = x;
    return 0;
}

enum { ST_OK = 0, ST_FALLBACK = 1, ST_CLOSE = 2, ST_NOMEM = 3 };

typedef struct {
    double *m;
    Py_ssize_t n;
    double *sign, *cs, *v, *row, *vec; /* vec: the tied rows of R's refill, allocated when first needed */
    Py_ssize_t vec_rows;
    Py_ssize_t *oo;
    long max_steps;
    int cs_ready; /* cs already holds the column sums the next reflect() starts from */
} cstate;

/*
 * What a reflection step decides on, from the column sums cs: j = np.argmin(cs) (the first minimum), low = cs[j],
 * second = the second smallest value (so count_nonzero(cs <= low + tol) > 1 iff second <= low + tol), and whether
 * some cs is NaN (numpy's argmin then returns a NaN: the numpy code raises).
 */
typedef struct {
    Py_ssize_t j;
    double low, second;
    int nan;
} scan_t;

static inline void scan_start(scan_t *r, double c)
{
    r->j = 0;
    r->low = c;
    r->second = INFINITY;
    r->nan = c != c;
}

static inline void scan_add(scan_t *r, Py_ssize_t i, double c)
{
    if (c < r->low) {
        r->second = r->low;
        r->low = c;
        r->j = i;
    } else if (c < r->second) {
        r->second = c;
    }
    r->nan |= c != c;
}

static void scan(const double *cs, Py_ssize_t n, scan_t *r)
{
    scan_start(r, cs[0]);
    for (Py_ssize_t i = 1; i < n; i++) scan_add(r, i, cs[i]);
}

/*
 * The residual of a factor, and the start of the next one, in one pass over the rows of m (qvalid.extract.centroid):
 * m_rc + g_c (-g_r) for every row r with g_r != 0 (BLAS dger as qvalid.extract._subtract_outer calls it, m.T being
 * the Fortran matrix: reference dger skips a column of A, a row of m, whose y is 0; the import-time check of
 * kernels.py compares this loop with scipy's dger); with sign (the explicit mode), the rows and then the columns
 * negated (m *= sign[:, None]; m *= sign[None, :]). With next_cs, the next factor's diagonal is set to 0 and its
 * starting column sums (m.sum(axis=0), double) are accumulated row by row from 0. (The long double sums of the
 * explicit mode are faster column-blocked, colsums_ld, than accumulated in this row pass.)
 */
static void residual_pass(double *m, Py_ssize_t n, const double *g, const double *sign, double *next_cs)
{
    if (next_cs)
        for (Py_ssize_t c = 0; c < n; c++) next_cs[c] = 0.;
    for (Py_ssize_t r = 0; r < n; r++) {
        double *row = m + r * n;
        if (g[r] != 0) {
            double t = -1.0 * g[r];
            for (Py_ssize_t c = 0; c < n; c++) row[c] = row[c] + g[c] * t;
        }
        if (sign) {
            double sr = sign[r];
            for (Py_ssize_t c = 0; c < n; c++) row[c] = (row[c] * sr) * sign[c];
        }
        if (next_cs) {
            row[r] = 0.0;
            for (Py_ssize_t c = 0; c < n; c++) next_cs[c] += row[c];
        }
    }
}

/* qvalid.extract._reflect_to_positive_manifold; returns ST_OK, ST_FALLBACK (where it raises) or ST_NOMEM */
static int reflect(cstate *st, int *explicit_, ivec *refl, int *close_out)
{
    double *m = st->m, *sign = st->sign, *cs = st->cs, *v = st->v;
    Py_ssize_t n = st->n;
    int explicit = *explicit_;
    for (Py_ssize_t i = 0; i < n; i++) sign[i] = 1.0;
    if (!st->cs_ready) {
        if (explicit)
            colsums_ld(m, n, NULL, cs);
        else
            colsums_d(m, n, cs);
    }
    st->cs_ready = 0;
    memcpy(v, cs, n * sizeof(double));
    int exact = explicit, close = 0;
    long steps = 0;
    double tol = 1e-11 * (1.0 + max_abs(cs, n, -INFINITY));
    scan_t sc;
    scan(cs, n, &sc);
    for (;;) {
        Py_ssize_t j = sc.j;
        double low = sc.low;
        if (sc.nan || low == -INFINITY) return ST_FALLBACK;
        /* the double sums are safe only if the minimum is clearly away from 0 and clearly unique */
        if (fabs(low) <= tol || sc.second <= low + tol) {
            close = 1;
            if (!exact) {
                colsums_ld(m, n, explicit ? NULL : sign, cs);
                for (Py_ssize_t i = 0; i < n; i++) v[i] = sign[i] * cs[i];
                exact = 1;
                scan(cs, n, &sc);
                continue;
            }
        }
        if (low > 0) {
            if (exact) break;
            colsums_ld(m, n, explicit ? NULL : sign, cs);
            for (Py_ssize_t i = 0; i < n; i++) v[i] = sign[i] * cs[i];
            exact = 1;
            scan(cs, n, &sc);
            continue;
        }
        steps++;
        if (steps > st->max_steps) return ST_FALLBACK;
        Py_ssize_t L = 0, *oo = st->oo;
        if (exact) {
            for (Py_ssize_t i = 0; i < n; i++)
                if (cs[i] == low) oo[L++] = i;
        } else {
            oo[L++] = j;
        }
        if (L > 1 && !explicit) {
            for (Py_ssize_t i = 0; i < n; i++) {
                double si = sign[i];
                for (Py_ssize_t c = 0; c < n; c++) m[i * n + c] = (m[i * n + c] * si) * sign[c];
            }
            explicit = 1;
        }
        if (!explicit) { /* v -= (2 sign_j) m[j]; sign[j] = -sign[j]; cs = sign * v; and the next scan, in one pass */
            double t2 = 2.0 * sign[j];
            sign[j] = -sign[j];
            const double *mj = m + j * n;
            double vi = v[0] - t2 * mj[0];
            v[0] = vi;
            cs[0] = sign[0] * vi;
            scan_start(&sc, cs[0]);
            for (Py_ssize_t i = 1; i < n; i++) {
                vi = v[i] - t2 * mj[i];
                v[i] = vi;
                double c = sign[i] * vi;
                cs[i] = c;
                scan_add(&sc, i, c);
            }
            if (ivec_push(refl, j) < 0) return ST_NOMEM;
            exact = 0;
            continue;
        }
        if (L == 1) { /* R: vec <- -tmat[j,]; tmat[j,] <- vec; tmat[,j] <- vec */
            double *row = st->row;
            memcpy(row, m + j * n, n * sizeof(double));
            double *mrow = m + j * n, *mcol = m + j;
            for (Py_ssize_t i = 0; i < n; i++) {
                mrow[i] = -row[i];
                cs[i] = cs[i] - 2.0 * row[i];
            }
            for (Py_ssize_t i = 0; i < n; i++) mcol[i * n] = -row[i];
            cs[j] = -np_sum(row, n);
            exact = 0;
        } else { /* R's column-major refill of the tied columns */
            if (st->vec_rows < L) {
                double *nv = realloc(st->vec, (size_t)L * n * sizeof(double));
                if (!nv) return ST_NOMEM;
                st->vec = nv;
                st->vec_rows = L;
            }
            double *vec = st->vec;
            for (Py_ssize_t a = 0; a < L; a++)
                for (Py_ssize_t i = 0; i < n; i++) vec[a * n + i] = -m[oo[a] * n + i];
            for (Py_ssize_t a = 0; a < L; a++) memcpy(m + oo[a] * n, vec + a * n, n * sizeof(double));
            for (Py_ssize_t c = 0; c < L; c++)
                for (Py_ssize_t i = 0; i < n; i++) {
                    Py_ssize_t q = c * n + i;
                    m[i * n + oo[c]] = vec[(q % L) * n + q / L];
                }
            colsums_ld(m, n, NULL, cs);
        }
        for (Py_ssize_t a = 0; a < L; a++) {
            sign[oo[a]] = -sign[oo[a]];
            if (ivec_push(refl, oo[a]) < 0) return ST_NOMEM;
        }
        scan(cs, n, &sc);
    }
    *explicit_ = explicit;
    *close_out = close;
    return ST_OK;
}

/*
 * centroid(r, out, spc, max_iter, max_steps, stop_when_close) -> (status, iterations, reflections, close)
 *
 * qvalid.extract.centroid on the correlations r (n, n; read only: the working copy is made here, after the
 * numpy code's symmetry test |r - r'| <= 100 eps), loadings into out (n, nfactors). status 0: done; 1: the numpy
 * code would raise or warn here (the caller runs it, and it does); 2: stop_when_close and a decision was close
 * (nothing else valid).
 */
static PyObject *k_centroid(PyObject *self, PyObject *args)
{
    double spc;
    long max_iter, max_steps;
    int stop_when_close;
    buf_t buf[] = {ARG("r", 'd', 2, RO), ARG("out", 'd', 2, WR)};
    double *m = NULL, *mem = NULL;
    Py_ssize_t *oo = NULL, *ends = NULL;
    long *iters = NULL;
    ivec refl = {0};
    cstate st = {0};
    PyObject *its = NULL, *rfl = NULL, *res = NULL;
    if (!PyArg_ParseTuple(args, "O&O&dllp", buf_arg, &buf[0], buf_arg, &buf[1], &spc, &max_iter, &max_steps,
                          &stop_when_close))
        goto done;
    Py_ssize_t n = SHAPE(buf[0], 0);
    int nf = (int)SHAPE(buf[1], 1);
    if (refuse(!has_shape(&buf[0], n, n) || !has_shape(&buf[1], n, nf) || n < 2 || n > 2000000000, "centroid", SHAPES))
        goto done;
    const double *r = DATA(buf[0]);
    double *out = DATA(buf[1]);
    m = malloc((size_t)n * n * sizeof(double));
    mem = malloc((size_t)n * 9 * sizeof(double));
    oo = malloc((size_t)n * sizeof(Py_ssize_t));
    iters = calloc(nf > 0 ? nf : 1, sizeof(long));
    ends = calloc(nf > 0 ? nf : 1, sizeof(Py_ssize_t));
    if (!m || !mem || !oo || !iters || !ends) goto done;
    st.m = m;
    st.n = n;
    st.sign = mem;
    st.cs = mem + n;
    st.v = mem + 2 * n;
    st.row = mem + 3 * n;
    st.oo = oo;
    st.max_steps = max_steps;
    double *t = mem + 4 * n, *d = mem + 5 * n, *f = mem + 6 * n, *ff = mem + 7 * n, *g = mem + 8 * n;
    int status = ST_OK, garbled = 0, close = 0, k;
    double n1 = (double)(n - 1);
    Py_BEGIN_ALLOW_THREADS
    /* the working copy, and np.abs(m - m.T).max(initial=0) <= 100 eps (NaN fails), in blocks of the transpose */
    memcpy(m, r, (size_t)n * n * sizeof(double));
    const double tol = 100 * 2.220446049250313e-16;
    for (Py_ssize_t i0 = 0; i0 < n && status == ST_OK; i0 += 64)
        for (Py_ssize_t j0 = i0; j0 < n && status == ST_OK; j0 += 64)
            for (Py_ssize_t i = i0; i < i0 + 64 && i < n; i++)
                for (Py_ssize_t j = j0 > i ? j0 : i; j < j0 + 64 && j < n; j++)
                    if (!(fabs(r[i * n + j] - r[j * n + i]) <= tol)) status = ST_FALLBACK;
    for (Py_ssize_t i = 0; i < n * nf; i++) out[i] = 0.0;
    for (Py_ssize_t i = 0; i < n && status == ST_OK; i++) m[i * n + i] = 0.0;
    for (k = 0; k < nf && status == ST_OK; k++) {
        int explicit = garbled, near = 0;
        status = reflect(&st, &explicit, &refl, &near);
        if (status != ST_OK) break;
        close = close || near;
        if (close && stop_when_close) {
            status = ST_CLOSE;
            break;
        }
        double *cs = st.cs, *sign = st.sign;
        for (Py_ssize_t i = 0; i < n; i++) t[i] = cs[i] / n1 + cs[i];
        if (!(seqsum_ld(t, n) > 0)) {
            status = ST_FALLBACK;
            break;
        }
        garbled = garbled || explicit;
        for (Py_ssize_t i = 0; i < n; i++) d[i] = cs[i] / n1;
        double tot = seqsum_ld(t, n);
        double root = tot >= 0 ? sqrt(tot) : NAN;
        for (Py_ssize_t i = 0; i < n; i++) {
            f[i] = t[i] / root;
            ff[i] = f[i] * f[i];
        }
        long it = 0;
        for (;;) { /* max |d - f^2| < spc, NaN failing it (np.maximum.reduce(..., initial=0.0)) */
            double mx = 0.0;
            for (Py_ssize_t i = 0; i < n; i++) {
                double a = fabs(d[i] - ff[i]);
                if (a != a) {
                    mx = a;
                    break;
                }
                if (a > mx) mx = a;
            }
            if (mx < spc) break;
            if (it >= max_iter) {
                status = ST_FALLBACK;
                break;
            }
            memcpy(d, ff, n * sizeof(double));
            for (Py_ssize_t i = 0; i < n; i++) t[i] = cs[i] + d[i];
            tot = seqsum_ld(t, n);
            root = tot >= 0 ? sqrt(tot) : NAN;
            for (Py_ssize_t i = 0; i < n; i++) {
                f[i] = t[i] / root;
                ff[i] = f[i] * f[i];
            }
            it++;
        }
        if (status != ST_OK) break;
        if (!close) { /* np.abs(np.abs(d - ff) - spc).min() < 1e-12, NaN propagating */
            double mn = INFINITY;
            int nan = 0;
            for (Py_ssize_t i = 0; i < n; i++) {
                double a = fabs(fabs(d[i] - ff[i]) - spc);
                if (a != a) {
                    nan = 1;
                    break;
                }
                if (a < mn) mn = a;
            }
            close = !nan && mn < 1e-12;
            if (close && stop_when_close) {
                status = ST_CLOSE;
                break;
            }
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            g[i] = sign[i] * f[i];
            out[i * nf + k] = g[i];
        }
        /* residual R/centroid.R:42-53 (W - g g', or in the explicit mode (S W S - f f') reflected back), fused with
         * the next factor's zero diagonal and starting column sums */
        int more = k + 1 < nf; /* (after the last factor the residual is not needed) */
        if (more) {
            residual_pass(m, n, explicit ? f : g, explicit ? sign : NULL, garbled ? NULL : st.cs);
            if (garbled) {
                for (Py_ssize_t i = 0; i < n; i++) m[i * n + i] = 0.0;
                colsums_ld(m, n, NULL, st.cs);
            }
        }
        st.cs_ready = more;
        iters[k] = it;
        ends[k] = refl.len;
    }
    Py_END_ALLOW_THREADS
    if (status == ST_NOMEM) goto done;
    if (status == ST_OK) {
        its = PyTuple_New(nf);
        rfl = PyTuple_New(nf);
        if (!its || !rfl) goto done;
        Py_ssize_t start = 0;
        for (int q = 0; q < nf; q++) {
            PyObject *tup = PyTuple_New(ends[q] - start);
            if (!tup) goto done;
            for (Py_ssize_t i = start; i < ends[q]; i++)
                PyTuple_SET_ITEM(tup, i - start, PyLong_FromSsize_t(refl.a[i]));
            PyTuple_SET_ITEM(rfl, q, tup);
            PyTuple_SET_ITEM(its, q, PyLong_FromLong(iters[q]));
            start = ends[q];
        }
        res = Py_BuildValue("iNNO", status, its, rfl, close ? Py_True : Py_False);
        its = rfl = NULL;
    } else {
        res = Py_BuildValue("iOOO", status, Py_None, Py_None, close ? Py_True : Py_False);
    }
done: /* (with no result and no error set: out of memory) */
    Py_XDECREF(its);
    Py_XDECREF(rfl);
    free(m);
    free(mem);
    free(oo);
    free(iters);
    free(ends);
    free(refl.a);
    free(st.vec);
    release_all(buf, NBUF(buf));
    if (!res && !PyErr_Occurred()) PyErr_NoMemory();
    return res;
}

/* subtract_outer(m, g): m -= g g' as residual_pass does it (for the import-time comparison with scipy's dger) */
static PyObject *k_subtract_outer(PyObject *self, PyObject *args)
{
    buf_t buf[] = {ARG("m", 'd', 2, WR), ARG("g", 'd', 1, RO)};
    PyObject *res = NULL;
    if (PyArg_ParseTuple(args, "O&O&", buf_arg, &buf[0], buf_arg, &buf[1]) &&
        !refuse(!has_shape(&buf[0], SHAPE(buf[1], 0), SHAPE(buf[1], 0)), "subtract_outer", SHAPES)) {
        residual_pass(DATA(buf[0]), SHAPE(buf[1], 0), DATA(buf[1]), NULL, NULL);
        res = new_none();
    }
    release_all(buf, NBUF(buf));
    return res;
}

/* ----------------------------------------------------------------------------------------- correlations */

/*
 * out (n, n) = z' z for z (m, n) C-ordered, each entry a sum over rows in order from 0 (what reference BLAS dsyrk
 * computes for numpy's z.T @ z; the lower triangle is the upper one mirrored, as numpy copies it). Two columns of
 * j in each SSE2 register: lanes are different entries, so each entry's sum keeps its order.
 */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
/* gram_seq's blocks of 4 x 8 entries with AVX2 (four lanes; multiplies and adds, never fused: no FMA target) */
__attribute__((target("avx2"))) static Py_ssize_t gram_avx2_block(const double *z, Py_ssize_t m, Py_ssize_t n,
                                                                   Py_ssize_t i0, double *out)
{
    Py_ssize_t j0 = i0;
    for (; j0 + 8 <= n; j0 += 8) {
        __m256d c00 = _mm256_setzero_pd(), c01 = _mm256_setzero_pd(), c10 = _mm256_setzero_pd(),
                c11 = _mm256_setzero_pd(), c20 = _mm256_setzero_pd(), c21 = _mm256_setzero_pd(),
                c30 = _mm256_setzero_pd(), c31 = _mm256_setzero_pd();
        for (Py_ssize_t l = 0; l < m; l++) {
            const double *row = z + l * n;
            __m256d b0 = _mm256_loadu_pd(row + j0), b1 = _mm256_loadu_pd(row + j0 + 4);
            __m256d a = _mm256_broadcast_sd(row + i0);
            c00 = _mm256_add_pd(c00, _mm256_mul_pd(a, b0));
            c01 = _mm256_add_pd(c01, _mm256_mul_pd(a, b1));
            a = _mm256_broadcast_sd(row + i0 + 1);
            c10 = _mm256_add_pd(c10, _mm256_mul_pd(a, b0));
            c11 = _mm256_add_pd(c11, _mm256_mul_pd(a, b1));
            a = _mm256_broadcast_sd(row + i0 + 2);
            c20 = _mm256_add_pd(c20, _mm256_mul_pd(a, b0));
            c21 = _mm256_add_pd(c21, _mm256_mul_pd(a, b1));
            a = _mm256_broadcast_sd(row + i0 + 3);
            c30 = _mm256_add_pd(c30, _mm256_mul_pd(a, b0));
            c31 = _mm256_add_pd(c31, _mm256_mul_pd(a, b1));
        }
        _mm256_storeu_pd(out + i0 * n + j0, c00);
        _mm256_storeu_pd(out + i0 * n + j0 + 4, c01);
        _mm256_storeu_pd(out + (i0 + 1) * n + j0, c10);
        _mm256_storeu_pd(out + (i0 + 1) * n + j0 + 4, c11);
        _mm256_storeu_pd(out + (i0 + 2) * n + j0, c20);
        _mm256_storeu_pd(out + (i0 + 2) * n + j0 + 4, c21);
        _mm256_storeu_pd(out + (i0 + 3) * n + j0, c30);
        _mm256_storeu_pd(out + (i0 + 3) * n + j0 + 4, c31);
    }
    return j0;
}
#endif

static int use_avx2 = -1;

static void gram_seq(const double *z, Py_ssize_t m, Py_ssize_t n, double *out)
{
#ifdef HAVE_AVX2_PATH
    if (use_avx2 < 0) use_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
#else
    use_avx2 = 0;
#endif
    Py_ssize_t i0 = 0;
    for (; i0 < n; i0 += 4) {
        Py_ssize_t ni = n - i0 < 4 ? n - i0 : 4;
        Py_ssize_t j0 = i0;
#ifdef HAVE_AVX2_PATH
        if (ni == 4 && use_avx2) j0 = gram_avx2_block(z, m, n, i0, out);
#endif
#ifdef __SSE2__
        if (ni == 4) {
            for (; j0 + 4 <= n; j0 += 4) {
                __m128d c00 = _mm_setzero_pd(), c01 = _mm_setzero_pd(), c10 = _mm_setzero_pd(),
                        c11 = _mm_setzero_pd(), c20 = _mm_setzero_pd(), c21 = _mm_setzero_pd(),
                        c30 = _mm_setzero_pd(), c31 = _mm_setzero_pd();
                for (Py_ssize_t l = 0; l < m; l++) {
                    const double *row = z + l * n;
                    __m128d b0 = _mm_loadu_pd(row + j0), b1 = _mm_loadu_pd(row + j0 + 2);
                    __m128d a = _mm_set1_pd(row[i0]);
                    c00 = _mm_add_pd(c00, _mm_mul_pd(a, b0));
                    c01 = _mm_add_pd(c01, _mm_mul_pd(a, b1));
                    a = _mm_set1_pd(row[i0 + 1]);
                    c10 = _mm_add_pd(c10, _mm_mul_pd(a, b0));
                    c11 = _mm_add_pd(c11, _mm_mul_pd(a, b1));
                    a = _mm_set1_pd(row[i0 + 2]);
                    c20 = _mm_add_pd(c20, _mm_mul_pd(a, b0));
                    c21 = _mm_add_pd(c21, _mm_mul_pd(a, b1));
                    a = _mm_set1_pd(row[i0 + 3]);
                    c30 = _mm_add_pd(c30, _mm_mul_pd(a, b0));
                    c31 = _mm_add_pd(c31, _mm_mul_pd(a, b1));
                }
                _mm_storeu_pd(out + i0 * n + j0, c00);
                _mm_storeu_pd(out + i0 * n + j0 + 2, c01);
                _mm_storeu_pd(out + (i0 + 1) * n + j0, c10);
                _mm_storeu_pd(out + (i0 + 1) * n + j0 + 2, c11);
                _mm_storeu_pd(out + (i0 + 2) * n + j0, c20);
                _mm_storeu_pd(out + (i0 + 2) * n + j0 + 2, c21);
                _mm_storeu_pd(out + (i0 + 3) * n + j0, c30);
                _mm_storeu_pd(out + (i0 + 3) * n + j0 + 2, c31);
            }
        }
#endif
        for (; j0 < n; j0++) /* the remaining columns (and rows, without SSE2), entry by entry */
            for (Py_ssize_t a = 0; a < ni; a++) {
                double acc = 0.;
                for (Py_ssize_t l = 0; l < m; l++) acc += z[l * n + i0 + a] * z[l * n + j0];
                out[(i0 + a) * n + j0] = acc;
            }
    }
}

/*
 * The lower triangle from the upper one, in tiles (numpy copies syrk's triangle the same way; each entry's products
 * commute, so both triangles are the same bits); with clamp, R's CLAMP to [-1, 1] first (np.clip: NaN stays) and a
 * diagonal of exactly 1.
 */
static void mirror_upper(double *r, Py_ssize_t n, int clamp)
{
    for (Py_ssize_t i0 = 0; i0 < n; i0 += 64)
        for (Py_ssize_t j0 = i0; j0 < n; j0 += 64)
            for (Py_ssize_t i = i0; i < i0 + 64 && i < n; i++)
                for (Py_ssize_t j = j0 > i ? j0 : i; j < j0 + 64 && j < n; j++) {
                    double v = r[i * n + j];
                    if (clamp) {
                        if (v > 1.0)
                            v = 1.0;
                        else if (v < -1.0)
                            v = -1.0;
                        r[i * n + j] = v;
                    }
                    r[j * n + i] = v;
                }
    if (clamp)
        for (Py_ssize_t i = 0; i < n; i++) r[i * n + i] = 1.0;
}


/*
 * pearson(x, work, out): qvalid.correlation._pearson: z = unit_columns(x) into work (m, n), out = clamp(z' z) (or
 * only z when out is None),
 * diagonal 1. unit_columns: mean = column sum (rows in order from 0) / m; z = x - mean; z /= sqrt(column sum of
 * z * z).
 */
static PyObject *k_pearson(PyObject *self, PyObject *args)
{
    buf_t buf[] = {ARG("x", 'd', 2, RO), ARG("work", 'd', 2, WR), ARG("out", 'd', 2, WR | OPT)};
    PyObject *res = NULL;
    double *col = NULL;
    if (!PyArg_ParseTuple(args, "O&O&O&", buf_arg, &buf[0], buf_arg, &buf[1], buf_arg, &buf[2])) goto done;
    Py_ssize_t m = SHAPE(buf[0], 0), n = SHAPE(buf[0], 1);
    if (refuse(!has_shape(&buf[1], m, n) || (buf[2].held && !has_shape(&buf[2], n, n)) || m < 1 || n < 1, "pearson",
               SHAPES))
        goto done;
    const double *x = DATA(buf[0]);
    double *z = DATA(buf[1]), *out = buf[2].held ? DATA(buf[2]) : NULL;
    col = malloc((size_t)n * sizeof(double));
    if (!col) {
        PyErr_NoMemory();
        goto done;
    }
    int finite;
    Py_BEGIN_ALLOW_THREADS
    finite = all_finite(x, m * n);
    if (finite) {
        colsums_rect(x, m, n, col);
        for (Py_ssize_t j = 0; j < n; j++) col[j] = col[j] / (double)m;
        for (Py_ssize_t l = 0; l < m; l++)
            for (Py_ssize_t j = 0; j < n; j++) z[l * n + j] = x[l * n + j] - col[j];
        for (Py_ssize_t j = 0; j < n; j++) col[j] = 0.;
        for (Py_ssize_t l = 0; l < m; l++)
            for (Py_ssize_t j = 0; j < n; j++) col[j] += z[l * n + j] * z[l * n + j];
        for (Py_ssize_t j = 0; j < n; j++) {
            col[j] = sqrt(col[j]);
            finite &= col[j] != 0 && isfinite(col[j]); /* a sort without variance: 0/0 in numpy's unit columns */
        }
        for (Py_ssize_t l = 0; l < m; l++)
            for (Py_ssize_t j = 0; j < n; j++) z[l * n + j] = z[l * n + j] / col[j];
        if (out && finite) {
            gram_seq(z, m, n, out);
            mirror_upper(out, n, 1);
        }
    }
    Py_END_ALLOW_THREADS
    res = PyBool_FromLong(finite);
done:
    free(col);
    release_all(buf, NBUF(buf));
    return res;
}

/*
 * gram(z, out): out = z' z (gram_seq); gram_rows(z, out): out = z z' for z (m, n), numpy's z @ z.T (reference
 * dsyrk: each entry summed in order from 0), through a transposed copy and gram_seq. False (nothing written) when z
 * has a NaN or an infinity.
 */
static PyObject *gram_kernel(PyObject *args, int rows)
{
    buf_t buf[] = {ARG("z", 'd', 2, RO), ARG("out", 'd', 2, WR)};
    PyObject *res = NULL;
    double *zt = NULL;
    if (!PyArg_ParseTuple(args, "O&O&", buf_arg, &buf[0], buf_arg, &buf[1])) goto done;
    Py_ssize_t m = SHAPE(buf[0], 0), n = SHAPE(buf[0], 1), side = rows ? m : n;
    if (refuse(!has_shape(&buf[1], side, side), rows ? "gram_rows" : "gram", SHAPES)) goto done;
    const double *z = DATA(buf[0]);
    double *out = DATA(buf[1]);
    int finite = all_finite(z, m * n);
    if (finite && rows) {
        zt = malloc((size_t)(m * n > 0 ? m * n : 1) * sizeof(double));
        if (!zt) {
            PyErr_NoMemory();
            goto done;
        }
    }
    if (finite) {
        Py_BEGIN_ALLOW_THREADS
        if (rows)
            for (Py_ssize_t a = 0; a < m; a++)
                for (Py_ssize_t l = 0; l < n; l++) zt[l * m + a] = z[a * n + l];
        gram_seq(rows ? zt : z, rows ? n : m, side, out); /* out = (zt)' zt = z z', or z' z */
        mirror_upper(out, side, 0);
        Py_END_ALLOW_THREADS
    }
    res = PyBool_FromLong(finite);
done:
    free(zt);
    release_all(buf, NBUF(buf));
    return res;
}

static PyObject *k_gram(PyObject *self, PyObject *args)
{
    return gram_kernel(args, 0);
}

static PyObject *k_gram_rows(PyObject *self, PyObject *args)
{
    return gram_kernel(args, 1);
}

/*
 * The centred values xc (long double) are often small integers, or multiples of a small power of 2 (a Q-sort on
 * a symmetric forced grid has mean exactly 0). If every xc is a double, a multiple of 2^-q, and m max|xc|^2 <
 * 2^(53 - 2q), every product and partial sum of R's long double loop is exact; so is the same sum in doubles, in
 * any order. Then S = xc' xc is computed in doubles (gram_seq), and S / (m - 1) rounded as R rounds it (long
 * double division, then double) is looked up: S takes few distinct values. Returns the scale 2^q, or 0 when the
 * shortcut does not apply.
 */
static double exact_in_doubles(const LD *xc, Py_ssize_t count, Py_ssize_t m)
{
    int q = 0;
    double mx = 0.;
    for (Py_ssize_t i = 0; i < count; i++) {
        double d = (double)xc[i];
        if ((LD)d != xc[i] || !isfinite(d)) return 0.;
        if (d == 0.) continue;
        int e;
        double f = frexp(fabs(d), &e); /* d = f 2^e, 0.5 <= f < 1: f 2^53 is an integer */
        unsigned long long mant = (unsigned long long)ldexp(f, 53);
        int lowest = e - 53 + __builtin_ctzll(mant); /* exponent of d's lowest set bit */
        if (-lowest > q) q = -lowest;
        if (q > 20) return 0.;
        if (fabs(d) > mx) mx = fabs(d);
    }
    double scale = ldexp(1.0, q);
    double top = mx * scale; /* an integer: the largest |xc| in units of 2^-q */
    if (top * top * (double)m >= 9007199254740992.0 /* 2^53 */ || top * top > 1e12) return 0.;
    return scale;
}

/*
 * pearson_exact(x, out): qvalid.correlation._pearson_exact, R's cor() (R 4.2.2 cov.c MEAN_ and cov_na_1):
 * mean = long double sum (from the first element) / m plus the correction pass, rounded to double; long double
 * centred values; cov = (sum of products from 0, in long double) / (m - 1), rounded; r = cov / (sd_i sd_j) in
 * double, clamped, diagonal 1. The upper triangle is computed and mirrored (each entry's products commute).
 */
static PyObject *k_pearson_exact(PyObject *self, PyObject *args)
{
    buf_t buf[] = {ARG("x", 'd', 2, RO), ARG("out", 'd', 2, WR)};
    PyObject *res = NULL;
    LD *xc = NULL;
    double *sd = NULL, *xd = NULL, *table = NULL;
    int shortcut = 0;
    if (!PyArg_ParseTuple(args, "O&O&", buf_arg, &buf[0], buf_arg, &buf[1])) goto done;
    Py_ssize_t m = SHAPE(buf[0], 0), n = SHAPE(buf[0], 1);
    if (refuse(!has_shape(&buf[1], n, n) || m < 1 || n < 1, "pearson_exact", SHAPES)) goto done;
    const double *x = DATA(buf[0]);
    double *out = DATA(buf[1]);
    if (!all_finite(x, m * n)) {
        res = PyLong_FromLong(-1); /* not done: the numpy code */
        goto done;
    }
    xc = malloc((size_t)m * n * sizeof(LD)); /* transposed: sort j's centred values xc[j * m .. j * m + m) */
    sd = malloc((size_t)n * sizeof(double));
    if (!xc || !sd) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    LD lm = (LD)m, lm1 = (LD)(m - 1);
    for (Py_ssize_t j = 0; j < n; j++) {
        LD acc = (LD)x[j];
        for (Py_ssize_t l = 1; l < m; l++) acc += (LD)x[l * n + j];
        LD tmp = acc / lm;
        LD acc2 = (LD)x[j] - tmp;
        for (Py_ssize_t l = 1; l < m; l++) acc2 += (LD)x[l * n + j] - tmp;
        double mean = (double)(tmp + acc2 / lm);
        for (Py_ssize_t l = 0; l < m; l++) xc[j * m + l] = (LD)x[l * n + j] - (LD)mean;
    }
    double scale = exact_in_doubles(xc, m * n, m);
    if (scale > 0) {
        /* S in units of 2^-2q: integers; the diagonal holds the largest |S| of each row (Cauchy-Schwarz) */
        xd = malloc((size_t)m * n * sizeof(double));
        if (xd) {
            for (Py_ssize_t j = 0; j < n; j++)
                for (Py_ssize_t l = 0; l < m; l++) xd[l * n + j] = (double)xc[j * m + l] * scale;
            gram_seq(xd, m, n, out);
            double smax = 0.;
            for (Py_ssize_t i = 0; i < n; i++)
                if (out[i * n + i] > smax) smax = out[i * n + i];
            if (smax <= 4e6) {
                Py_ssize_t h = (Py_ssize_t)smax;
                table = malloc((size_t)(2 * h + 1) * sizeof(double));
                if (table) {
                    LD unit = (LD)1 / ((LD)scale * (LD)scale); /* 2^-2q: exact */
                    for (Py_ssize_t v = -h; v <= h; v++) table[v + h] = (double)(((LD)v * unit) / lm1);
                    for (Py_ssize_t i = 0; i < n; i++)
                        for (Py_ssize_t j = i; j < n; j++) out[i * n + j] = table[(Py_ssize_t)out[i * n + j] + h];
                    shortcut = 1;
                }
            }
            if (!shortcut) { /* S is exact: divide it as R does */
                LD unit = (LD)1 / ((LD)scale * (LD)scale);
                for (Py_ssize_t i = 0; i < n; i++)
                    for (Py_ssize_t j = i; j < n; j++) out[i * n + j] = (double)(((LD)out[i * n + j] * unit) / lm1);
                shortcut = 1;
            }
        }
    }
    if (!shortcut) {
        for (Py_ssize_t i = 0; i < n; i++) {
            const LD *a = xc + i * m;
            Py_ssize_t j = i;
            for (; j + 4 <= n; j += 4) {
                const LD *b0 = xc + j * m, *b1 = b0 + m, *b2 = b1 + m, *b3 = b2 + m;
                LD s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                for (Py_ssize_t l = 0; l < m; l++) {
                    LD v = a[l];
                    s0 += v * b0[l];
                    s1 += v * b1[l];
                    s2 += v * b2[l];
                    s3 += v * b3[l];
                }
                out[i * n + j] = (double)(s0 / lm1);
                out[i * n + j + 1] = (double)(s1 / lm1);
                out[i * n + j + 2] = (double)(s2 / lm1);
                out[i * n + j + 3] = (double)(s3 / lm1);
            }
            for (; j < n; j++) {
                const LD *b0 = xc + j * m;
                LD s0 = 0;
                for (Py_ssize_t l = 0; l < m; l++) s0 += a[l] * b0[l];
                out[i * n + j] = (double)(s0 / lm1);
            }
        }
    }
    for (Py_ssize_t i = 0; i < n; i++) sd[i] = sqrt(out[i * n + i]);
    for (Py_ssize_t i = 0; i < n; i++)
        for (Py_ssize_t j = i; j < n; j++) out[i * n + j] = out[i * n + j] / (sd[i] * sd[j]);
    mirror_upper(out, n, 1);
    Py_END_ALLOW_THREADS
    res = PyLong_FromLong(shortcut);
done:
    free(xc);
    free(sd);
    free(xd);
    free(table);
    release_all(buf, NBUF(buf));
    return res;
}

/* ------------------------------------------------------------------------- flags, z-scores, characteristics */

/*
 * flag(a, out, lim, threshold, majority): qvalid.flag.flag for one (n, k) matrix. Significance |a| > lim (lim =
 * z / sqrt(n_statements)) or, with threshold, |a| >= lim; majority: a^2 > (row sum of a^2) - a^2, the row sum as
 * numpy sums a contiguous row (np_sum).
 */
static PyObject *k_flag(PyObject *self, PyObject *args)
{
    double lim;
    int threshold, majority;
    buf_t buf[] = {ARG("a", 'd', 2, RO), ARG("out", '?', 2, WR)};
    PyObject *res = NULL;
    if (!PyArg_ParseTuple(args, "O&O&dpp", buf_arg, &buf[0], buf_arg, &buf[1], &lim, &threshold, &majority))
        goto done;
    Py_ssize_t n = SHAPE(buf[0], 0), k = SHAPE(buf[0], 1);
    if (refuse(!has_shape(&buf[1], n, k), "flag", SHAPES) || refuse(k > 64, "flag", "at most 64 factors")) goto done;
    const double *a = DATA(buf[0]);
    char *out = (char *)buf[1].view.buf;
    double sq[64];
    for (Py_ssize_t i = 0; i < n; i++) {
        const double *row = a + i * k;
        for (Py_ssize_t j = 0; j < k; j++) sq[j] = row[j] * row[j];
        double tot = majority ? np_sum(sq, k) : 0.;
        for (Py_ssize_t j = 0; j < k; j++) {
            double v = fabs(row[j]);
            int ok = threshold ? v >= lim : v > lim;
            if (majority) ok = ok && sq[j] > tot - sq[j];
            out[i * k + j] = (char)ok;
        }
    }
    res = new_none();
done:
    release_all(buf, NBUF(buf));
    return res;
}

/*
 * flag_summary(a, f) -> (negative flagged, flagged on several factors, factors without flags (bit mask as a
 * list of bools), a flagged |loading| >= 1): what qvalid.flag.flag_warnings and the pipeline test.
 */
static PyObject *k_flag_summary(PyObject *self, PyObject *args)
{
    buf_t buf[] = {ARG("a", 'd', 2, RO), ARG("flags", '?', 2, RO)};
    PyObject *res = NULL;
    if (!PyArg_ParseTuple(args, "O&O&", buf_arg, &buf[0], buf_arg, &buf[1])) goto done;
    Py_ssize_t n = SHAPE(buf[0], 0), k = SHAPE(buf[0], 1);
    if (refuse(!has_shape(&buf[1], n, k), "flag_summary", SHAPES)) goto done;
    const double *a = DATA(buf[0]);
    const char *f = (const char *)buf[1].view.buf;
    int neg = 0, multi = 0, unit = 0;
    PyObject *empty = PyList_New(k);
    if (!empty) goto done;
    for (Py_ssize_t j = 0; j < k; j++) {
        int any = 0;
        for (Py_ssize_t i = 0; i < n; i++) any |= f[i * k + j] != 0;
        PyObject *b = any ? Py_False : Py_True;
        Py_INCREF(b);
        PyList_SET_ITEM(empty, j, b);
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        int cnt = 0;
        for (Py_ssize_t j = 0; j < k; j++)
            if (f[i * k + j]) {
                double v = a[i * k + j];
                cnt++;
                neg |= v < 0;
                unit |= fabs(v) >= 1;
            }
        multi |= cnt > 1;
    }
    res = Py_BuildValue("OONO", neg ? Py_True : Py_False, multi ? Py_True : Py_False, empty, unit ? Py_True : Py_False);
done:
    release_all(buf, NBUF(buf));
    return res;
}

/* weights(a, f, out): qvalid.scores.weights, w = fa / (1 - fa^2) with fa = a where flagged, else 0 */
static PyObject *k_weights(PyObject *self, PyObject *args)
{
    buf_t buf[] = {ARG("a", 'd', 2, RO), ARG("flags", '?', 2, RO), ARG("out", 'd', 2, WR)};
    PyObject *res = NULL;
    if (!PyArg_ParseTuple(args, "O&O&O&", buf_arg, &buf[0], buf_arg, &buf[1], buf_arg, &buf[2])) goto done;
    Py_ssize_t n = SHAPE(buf[0], 0), k = SHAPE(buf[0], 1);
    if (refuse(!has_shape(&buf[1], n, k) || !has_shape(&buf[2], n, k), "weights", SHAPES)) goto done;
    const double *a = DATA(buf[0]);
    const char *f = (const char *)buf[1].view.buf;
    double *w = DATA(buf[2]);
    for (Py_ssize_t i = 0; i < n * k; i++) {
        double fa = f[i] ? a[i] : 0.0;
        w[i] = fa / (1.0 - fa * fa);
    }
    res = new_none();
done:
    release_all(buf, NBUF(buf));
    return res;
}

/*
 * zscores(x, w, out) -> ok: qvalid.scores.zscores for one study: s = x @ w (each entry summed over sorts in order
 * from 0, as reference BLAS), dev = s - colsum(s) / m, sd = sqrt(colsum(dev^2) / (m - 1)), z = dev / sd; a factor
 * whose weights are all 0 gets NaN. False (nothing written) when some weight is not finite: the numpy code then
 * takes its limit rule.
 */
static PyObject *k_zscores(PyObject *self, PyObject *args)
{
    buf_t buf[] = {ARG("zscores: x", 'n', 2, RO), ARG("w", 'd', 2, RO), ARG("out", 'd', 2, WR)};
    PyObject *res = NULL;
    double *sq = NULL;
    if (!PyArg_ParseTuple(args, "O&O&O&", buf_arg, &buf[0], buf_arg, &buf[1], buf_arg, &buf[2])) goto done;
    Py_ssize_t m = SHAPE(buf[0], 0), n = SHAPE(buf[0], 1), k = SHAPE(buf[1], 1);
    if (refuse(SHAPE(buf[1], 0) != n || !has_shape(&buf[2], m, k) || m < 2 || k > 64, "zscores", SHAPES)) goto done;
    const double *w = DATA(buf[1]);
    double *z = DATA(buf[2]);
    int isd = buf[0].fmt == 'd';
    const double *xd = (const double *)buf[0].view.buf;
    if (!all_finite(w, n * k) || (isd && !all_finite(xd, m * n))) {
        res = PyBool_FromLong(0);
        goto done;
    }
    const long long *xi = (const long long *)buf[0].view.buf;
    double col[64], acc[64];
    for (Py_ssize_t i = 0; i < m; i++) {
        for (Py_ssize_t j = 0; j < k; j++) acc[j] = 0.;
        for (Py_ssize_t l = 0; l < n; l++) {
            double xv = isd ? xd[i * n + l] : (double)xi[i * n + l];
            const double *wr = w + l * k;
            for (Py_ssize_t j = 0; j < k; j++) acc[j] += xv * wr[j];
        }
        for (Py_ssize_t j = 0; j < k; j++) z[i * k + j] = acc[j];
    }
    colsums_np(z, m, k, col);
    for (Py_ssize_t j = 0; j < k; j++) col[j] = col[j] / (double)m;
    for (Py_ssize_t i = 0; i < m * k; i++) z[i] = z[i] - col[i % k];
    sq = malloc((size_t)m * k * sizeof(double));
    if (!sq) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < m * k; i++) sq[i] = z[i] * z[i];
    colsums_np(sq, m, k, acc);
    for (Py_ssize_t j = 0; j < k; j++) {
        acc[j] = sqrt(acc[j] / (double)(m - 1));
        int used = 0;
        for (Py_ssize_t l = 0; l < n; l++) used |= w[l * k + j] != 0;
        col[j] = used;
    }
    for (Py_ssize_t i = 0; i < m * k; i++) z[i] = col[i % k] != 0 ? z[i] / acc[i % k] : NAN;
    res = PyBool_FromLong(1);
done:
    free(sq);
    release_all(buf, NBUF(buf));
    return res;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/*
 * factor_arrays(z, q, out) -> ok: qvalid.scores.factor_arrays with ties="qmethod" for one study: statement i of
 * factor j gets sorted(q)[(#{z < z_i} + #{z <= z_i} - 1) // 2] (the floor of R's average rank). False when z has
 * a NaN (the numpy code handles those columns).
 */
static PyObject *k_factor_arrays(PyObject *self, PyObject *args)
{
    buf_t buf[] = {ARG("z", 'd', 2, RO), ARG("q", 'd', 1, RO), ARG("out", 'd', 2, WR)};
    PyObject *res = NULL;
    double *qs = NULL;
    if (!PyArg_ParseTuple(args, "O&O&O&", buf_arg, &buf[0], buf_arg, &buf[1], buf_arg, &buf[2])) goto done;
    Py_ssize_t m = SHAPE(buf[0], 0), k = SHAPE(buf[0], 1);
    if (refuse(!has_shape(&buf[1], m, 0) || !has_shape(&buf[2], m, k), "factor_arrays", SHAPES)) goto done;
    const double *z = DATA(buf[0]), *q = DATA(buf[1]);
    double *out = DATA(buf[2]);
    /* a factor without flags has z-scores that are all NaN: its array is NaN (np.nan); partly NaN: not handled */
    unsigned char allnan[64];
    int handled = k <= 64;
    for (Py_ssize_t j = 0; j < k && handled; j++) {
        Py_ssize_t cnt = 0;
        for (Py_ssize_t i = 0; i < m; i++) cnt += z[i * k + j] != z[i * k + j];
        handled = cnt == 0 || cnt == m;
        allnan[j] = cnt != 0;
    }
    if (!handled) {
        res = PyBool_FromLong(0);
        goto done;
    }
    qs = malloc((m > 0 ? m : 1) * sizeof(double));
    if (!qs) {
        PyErr_NoMemory();
        goto done;
    }
    memcpy(qs, q, m * sizeof(double));
    int sorted = 1;
    for (Py_ssize_t i = 1; i < m; i++) sorted &= !(qs[i] < qs[i - 1]);
    if (!sorted) qsort(qs, m, sizeof(double), cmp_double);
    for (Py_ssize_t j = 0; j < k; j++)
        for (Py_ssize_t i = 0; i < m; i++) {
            if (allnan[j]) {
                out[i * k + j] = NAN;
                continue;
            }
            double v = z[i * k + j];
            Py_ssize_t lt = 0, le = 0;
            for (Py_ssize_t r = 0; r < m; r++) {
                double u = z[r * k + j];
                lt += u < v;
                le += u <= v;
            }
            out[i * k + j] = qs[(lt + le - 1) / 2];
        }
    res = PyBool_FromLong(1);
done:
    free(qs);
    release_all(buf, NBUF(buf));
    return res;
}

/*
 * characteristics(a, f, z, c, nload, ev, pct, rel, se, cor, sed) -> ok: qvalid.characteristics.characteristics
 * with se_rule="qmethod" for one study (every sum in numpy's order: columns summed row after row from 0, the
 * cross-products of the z-score deviations term after term as reference BLAS). False when z has a NaN.
 */
static PyObject *k_characteristics(PyObject *self, PyObject *args)
{
    double c;
    buf_t buf[] = {ARG("a", 'd', 2, RO),  ARG("flags", '?', 2, RO), ARG("z", 'd', 2, RO),   ARG("nload", 'l', 1, WR),
                   ARG("ev", 'd', 1, WR), ARG("pct", 'd', 1, WR),   ARG("rel", 'd', 1, WR), ARG("se", 'd', 1, WR),
                   ARG("cor", 'd', 2, WR), ARG("sed", 'd', 2, WR)};
    PyObject *res = NULL;
    double *dev = NULL;
    if (!PyArg_ParseTuple(args, "O&O&O&dO&O&O&O&O&O&O&", buf_arg, &buf[0], buf_arg, &buf[1], buf_arg, &buf[2], &c,
                          buf_arg, &buf[3], buf_arg, &buf[4], buf_arg, &buf[5], buf_arg, &buf[6], buf_arg, &buf[7],
                          buf_arg, &buf[8], buf_arg, &buf[9]))
        goto done;
    Py_ssize_t n = SHAPE(buf[0], 0), k = SHAPE(buf[0], 1), m = SHAPE(buf[2], 0);
    int bad = !has_shape(&buf[1], n, k) || SHAPE(buf[2], 1) != k || k > 64;
    for (int i = 3; i < NBUF(buf); i++) bad = bad || !has_shape(&buf[i], k, k); /* nload .. se (k,), cor, sed (k, k) */
    if (refuse(bad, "characteristics", SHAPES)) goto done;
    const double *a = DATA(buf[0]), *z = DATA(buf[2]);
    const char *f = (const char *)buf[1].view.buf;
    long long *nload = (long long *)buf[3].view.buf;
    double *ev = DATA(buf[4]), *pct = DATA(buf[5]), *rel = DATA(buf[6]), *se = DATA(buf[7]), *cor = DATA(buf[8]),
           *sed = DATA(buf[9]);
    if (!all_finite(z, m * k) || !all_finite(a, n * k)) { /* a factor without flags (NaN z-scores): the numpy code */
        res = PyBool_FromLong(0);
        goto done;
    }
    double col[64], ss[64];
    Py_ssize_t big = n > m ? n : m;
    dev = malloc((size_t)(big * k + m * k) * sizeof(double)); /* dev, then a scratch matrix of squares */
    if (!dev) {
        PyErr_NoMemory();
        goto done;
    }
    double *sq = dev + m * k;
    for (Py_ssize_t j = 0; j < k; j++) nload[j] = 0;
    for (Py_ssize_t i = 0; i < n * k; i++) {
        nload[i % k] += f[i] != 0;
        sq[i] = a[i] * a[i];
    }
    colsums_np(sq, n, k, ev);
    for (Py_ssize_t j = 0; j < k; j++) pct[j] = 100.0 * ev[j] / (double)n;
    colsums_np(z, m, k, col);
    for (Py_ssize_t j = 0; j < k; j++) col[j] = col[j] / (double)m;
    for (Py_ssize_t i = 0; i < m * k; i++) {
        dev[i] = z[i] - col[i % k];
        sq[i] = dev[i] * dev[i];
    }
    colsums_np(sq, m, k, ss);
    for (Py_ssize_t j = 0; j < k; j++) {
        rel[j] = c * (double)nload[j] / (1.0 + (double)(nload[j] - 1) * c);
        se[j] = sqrt(ss[j] / (double)(m - 1)) * sqrt(1.0 - rel[j]);
    }
    for (Py_ssize_t p = 0; p < k; p++)
        for (Py_ssize_t q = p; q < k; q++) {
            double acc = 0.;
            for (Py_ssize_t i = 0; i < m; i++) acc += dev[i * k + p] * dev[i * k + q];
            double r = acc / sqrt(ss[p] * ss[q]);
            cor[p * k + q] = r;
            cor[q * k + p] = r;
        }
    for (Py_ssize_t p = 0; p < k; p++) cor[p * k + p] = 1.0;
    for (Py_ssize_t p = 0; p < k; p++)
        for (Py_ssize_t q = 0; q < k; q++) sed[p * k + q] = sqrt(se[p] * se[p] + se[q] * se[q]);
    res = PyBool_FromLong(1);
done:
    free(dev);
    release_all(buf, NBUF(buf));
    return res;
}

/*
 * stars(z, sed, a, b, mults, diffs, level, code): qvalid.characteristics.distinguishing's star levels: diffs =
 * z[:, a] - z[:, b]; level = number of mults with |diff| > sed[a, b] * mult (the thresholds increase); code = the
 * significant pairs of each statement as bits (pair p = bit p).
 */
static PyObject *k_stars(PyObject *self, PyObject *args)
{
    buf_t buf[] = {ARG("z", 'd', 2, RO),      ARG("sed", 'd', 2, RO),   ARG("a", 'l', 1, RO),
                   ARG("b", 'l', 1, RO),      ARG("mults", 'd', 1, RO), ARG("diffs", 'd', 2, WR),
                   ARG("level", 'l', 2, WR), ARG("code", 'l', 1, WR)};
    PyObject *res = NULL;
    if (!PyArg_ParseTuple(args, "O&O&O&O&O&O&O&O&", buf_arg, &buf[0], buf_arg, &buf[1], buf_arg, &buf[2], buf_arg,
                          &buf[3], buf_arg, &buf[4], buf_arg, &buf[5], buf_arg, &buf[6], buf_arg, &buf[7]))
        goto done;
    Py_ssize_t m = SHAPE(buf[0], 0), k = SHAPE(buf[0], 1), np_ = SHAPE(buf[2], 0), nm = SHAPE(buf[4], 0);
    if (refuse(!has_shape(&buf[1], k, k) || !has_shape(&buf[3], np_, 0) || !has_shape(&buf[5], m, np_) ||
                   !has_shape(&buf[6], m, np_) || !has_shape(&buf[7], m, 0) || np_ > 62 || nm > 16,
               "stars", SHAPES))
        goto done;
    const double *z = DATA(buf[0]), *sed = DATA(buf[1]), *mults = DATA(buf[4]);
    const long long *pa = (const long long *)buf[2].view.buf, *pb = (const long long *)buf[3].view.buf;
    double *diffs = DATA(buf[5]);
    long long *level = (long long *)buf[6].view.buf, *code = (long long *)buf[7].view.buf;
    double lim[62 * 16];
    for (Py_ssize_t p = 0; p < np_; p++) {
        if (refuse(pa[p] < 0 || pa[p] >= k || pb[p] < 0 || pb[p] >= k, "stars", "factor index out of range"))
            goto done;
        double c = sed[pa[p] * k + pb[p]];
        for (Py_ssize_t l = 0; l < nm; l++) lim[p * nm + l] = c * mults[l];
    }
    for (Py_ssize_t i = 0; i < m; i++) {
        long long bits = 0;
        for (Py_ssize_t p = 0; p < np_; p++) {
            double d = z[i * k + pa[p]] - z[i * k + pb[p]];
            double ad = fabs(d);
            long long lev = 0;
            for (Py_ssize_t l = 0; l < nm; l++) lev += ad > lim[p * nm + l];
            diffs[i * np_ + p] = d;
            level[i * np_ + p] = lev;
            if (lev > 0) bits |= 1LL << p;
        }
        code[i] = bits;
    }
    res = new_none();
done:
    release_all(buf, NBUF(buf));
    return res;
}

typedef struct {
    double v;
    Py_ssize_t i;
} vi_t;

/* ascending value, NaN last, ties by position (numpy's stable argsort) */
static int cmp_vi(const void *pa, const void *pb)
{
    const vi_t *a = pa, *b = pb;
    int an = a->v != a->v, bn = b->v != b->v;
    if (an != bn) return an - bn;
    if (!an && a->v != b->v) return a->v < b->v ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/*
 * close_ties(z, x, w, rel) -> bool: qvalid.core.scores.close_ties for one study: is some pair of z-scores of a
 * factor, adjacent in sorted order, within rel * max|z| (NaN ignored) of each other, other than an exact tie of two
 * statements whose scores agree on every sort with a nonzero weight? x (statements x sorts, float64 or int64) and w
 * (sorts x factors) may be None (then no pair is excused). The answer does not depend on the order of exactly
 * equal z-scores (if a group of equal values holds two statements that differ, some adjacent pair in any order
 * differs).
 */
static PyObject *k_close_ties(PyObject *self, PyObject *args)
{
    double rel;
    buf_t buf[] = {ARG("z", 'd', 2, RO), ARG("close_ties: x", 'n', 2, OPT), ARG("w", 'd', 2, OPT)};
    PyObject *res = NULL;
    vi_t *col = NULL;
    if (!PyArg_ParseTuple(args, "O&O&O&d", buf_arg, &buf[0], buf_arg, &buf[1], buf_arg, &buf[2], &rel)) goto done;
    int hasx = buf[1].held, isd = buf[1].fmt == 'd'; /* with x, w too (None: "shapes do not match") */
    Py_ssize_t m = SHAPE(buf[0], 0), k = SHAPE(buf[0], 1), n = hasx ? SHAPE(buf[1], 1) : 0;
    if (refuse(hasx && (SHAPE(buf[1], 0) != m || !buf[2].held || !has_shape(&buf[2], n, k)), "close_ties", SHAPES))
        goto done;
    const double *z = DATA(buf[0]), *w = hasx ? DATA(buf[2]) : NULL;
    const double *xd = hasx ? (const double *)buf[1].view.buf : NULL;
    const long long *xi = hasx ? (const long long *)buf[1].view.buf : NULL;
    col = malloc((m > 0 ? m : 1) * sizeof(vi_t));
    if (!col) {
        PyErr_NoMemory();
        goto done;
    }
    int found = 0;
    for (Py_ssize_t f = 0; f < k && !found; f++) {
        double scale = 0.0; /* np.nanmax(np.abs(z), initial=0.0) */
        for (Py_ssize_t i = 0; i < m; i++) {
            double v = z[i * k + f];
            col[i].v = v;
            col[i].i = i;
            if (fabs(v) > scale) scale = fabs(v);
        }
        qsort(col, m, sizeof(vi_t), cmp_vi);
        double lim = rel * scale;
        for (Py_ssize_t q = 0; q + 1 < m && !found; q++) {
            double gap = col[q + 1].v - col[q].v;
            if (!(gap <= lim)) continue;
            if (w && gap == 0) { /* excused when the two statements' scores agree on every weighted sort */
                Py_ssize_t a = col[q].i, b = col[q + 1].i;
                int same = 1;
                for (Py_ssize_t s = 0; s < n && same; s++) {
                    if (!(w[s * k + f] != 0)) continue;
                    same = isd ? xd[a * n + s] == xd[b * n + s] : xi[a * n + s] == xi[b * n + s];
                }
                if (same) continue;
            }
            found = 1;
        }
    }
    res = PyBool_FromLong(found);
done:
    free(col);
    release_all(buf, NBUF(buf));
    return res;
}

/*
 * off_grid(arrays, q) -> tuple: qvalid.diagnostics.grid_warnings' test, for each factor None when its array has a
 * NaN or, sorted, is the sorted grid q (np.array_equal(np.sort(col), q)); else a list of (score, statements given
 * it, statements the grid has) for every score given to more statements than the grid has, ascending.
 */
static PyObject *k_off_grid(PyObject *self, PyObject *args)
{
    buf_t buf[] = {ARG("arrays", 'd', 2, RO), ARG("q", 'd', 1, RO)};
    PyObject *out = NULL;
    double *col = NULL, *qs = NULL;
    if (!PyArg_ParseTuple(args, "O&O&", buf_arg, &buf[0], buf_arg, &buf[1])) goto done;
    Py_ssize_t m = SHAPE(buf[0], 0), k = SHAPE(buf[0], 1);
    if (refuse(!has_shape(&buf[1], m, 0), "off_grid", SHAPES)) goto done;
    const double *a = DATA(buf[0]);
    col = malloc((m > 0 ? m : 1) * sizeof(double));
    qs = malloc((m > 0 ? m : 1) * sizeof(double));
    out = PyTuple_New(k);
    if (!col || !qs || !out) {
        Py_CLEAR(out);
        PyErr_NoMemory();
        goto done;
    }
    memcpy(qs, DATA(buf[1]), m * sizeof(double));
    qsort(qs, m, sizeof(double), cmp_double);
    for (Py_ssize_t j = 0; j < k; j++) {
        int nan = 0, off = 0;
        for (Py_ssize_t i = 0; i < m; i++) {
            col[i] = a[i * k + j];
            nan |= col[i] != col[i];
        }
        if (!nan) {
            qsort(col, m, sizeof(double), cmp_double);
            for (Py_ssize_t i = 0; i < m && !off; i++) off = !(col[i] == qs[i]);
        }
        PyObject *item = Py_None;
        if (off) { /* the grid's scores in runs; the statements given each one (col sorted too) */
            item = PyList_New(0);
            if (!item) {
                Py_CLEAR(out);
                goto done;
            }
            Py_ssize_t c = 0;
            for (Py_ssize_t i = 0; i < m;) {
                double v = qs[i];
                Py_ssize_t want = 0, have = 0;
                while (i < m && qs[i] == v) {
                    want++;
                    i++;
                }
                while (c < m && col[c] < v) c++;
                while (c < m && col[c] == v) {
                    have++;
                    c++;
                }
                if (have > want) {
                    PyObject *t = Py_BuildValue("(dnn)", v, have, want);
                    if (!t || PyList_Append(item, t) < 0) {
                        Py_XDECREF(t);
                        Py_DECREF(item);
                        Py_CLEAR(out);
                        goto done;
                    }
                    Py_DECREF(t);
                }
            }
        } else {
            Py_INCREF(item);
        }
        PyTuple_SET_ITEM(out, j, item);
    }
done:
    free(col);
    free(qs);
    release_all(buf, NBUF(buf));
    return out;
}

/* kept(z) -> tuple: the factors whose z-scores have no NaN (qvalid.characteristics.distinguishing's keep) */
static PyObject *k_kept(PyObject *self, PyObject *args)
{
    buf_t buf[] = {ARG("z", 'd', 2, RO)};
    PyObject *t = NULL;
    if (!PyArg_ParseTuple(args, "O&", buf_arg, &buf[0])) goto done;
    Py_ssize_t m = SHAPE(buf[0], 0), k = SHAPE(buf[0], 1), cnt = 0;
    const double *z = DATA(buf[0]);
    Py_ssize_t keep[64];
    if (refuse(k > 64, "kept", "at most 64 factors")) goto done;
    for (Py_ssize_t j = 0; j < k; j++) {
        int nan = 0;
        for (Py_ssize_t i = 0; i < m && !nan; i++) nan = z[i * k + j] != z[i * k + j];
        if (!nan) keep[cnt++] = j;
    }
    t = PyTuple_New(cnt);
    for (Py_ssize_t i = 0; t && i < cnt; i++) PyTuple_SET_ITEM(t, i, PyLong_FromSsize_t(keep[i]));
done:
    release_all(buf, NBUF(buf));
    return t;
}

/* probe(name, a) -> float: the helper sums, for the import-time check that they are numpy's (kernels.py) */
static PyObject *k_probe(PyObject *self, PyObject *args)
{
    const char *name;
    buf_t buf[] = {ARG("a", 'd', 1, RO)};
    PyObject *res = NULL;
    if (!PyArg_ParseTuple(args, "sO&", &name, buf_arg, &buf[0])) goto done;
    Py_ssize_t n = SHAPE(buf[0], 0);
    const double *a = DATA(buf[0]);
    double r;
    if (strcmp(name, "sum") == 0)
        r = np_sum(a, n);
    else if (strcmp(name, "seqsum_ld") == 0 && n > 0)
        r = seqsum_ld(a, n);
    else if (strcmp(name, "colsum2") == 0 && n % 2 == 0) { /* a (n/2, 2) matrix: its first column sum */
        double out[2];
        colsums_np(a, n / 2, 2, out);
        r = out[0];
    } else if (strcmp(name, "argmin") == 0 && n > 0)
        r = (double)np_argmin(a, n);
    else {
        refuse(1, "probe", "unknown helper");
        goto done;
    }
    res = PyFloat_FromDouble(r);
done:
    release_all(buf, NBUF(buf));
    return res;
}

static PyMethodDef methods[] = {
    {"varimax", k_varimax, METH_VARARGS,
     "varimax(x, z, tt, sc, eps, max_iter, normalize) -> (n_iter, converged, info)"},
    {"centroid", k_centroid, METH_VARARGS,
     "centroid(r, out, spc, max_iter, max_steps, stop_when_close) -> (status, iterations, reflections, close)"},
    {"pearson", k_pearson, METH_VARARGS, "pearson(x, work, out)"},
    {"pearson_exact", k_pearson_exact, METH_VARARGS, "pearson_exact(x, out)"},
    {"gram", k_gram, METH_VARARGS, "gram(z, out)"},
    {"gram_rows", k_gram_rows, METH_VARARGS, "gram_rows(z, out): out = z z'"},
    {"subtract_outer", k_subtract_outer, METH_VARARGS, "subtract_outer(m, g): m -= g g' (dger's order)"},
    {"flag", k_flag, METH_VARARGS, "flag(a, out, lim, threshold, majority)"},
    {"flag_summary", k_flag_summary, METH_VARARGS, "flag_summary(a, flags) -> (negative, several, empty, unit)"},
    {"weights", k_weights, METH_VARARGS, "weights(a, flags, out)"},
    {"zscores", k_zscores, METH_VARARGS, "zscores(x, w, out) -> ok"},
    {"factor_arrays", k_factor_arrays, METH_VARARGS, "factor_arrays(z, q, out) -> ok"},
    {"characteristics", k_characteristics, METH_VARARGS,
     "characteristics(a, flags, z, c, nload, ev, pct, rel, se, cor, sed) -> ok"},
    {"stars", k_stars, METH_VARARGS, "stars(z, sed, a, b, mults, diffs, level, code)"},
    {"close_ties", k_close_ties, METH_VARARGS, "close_ties(z, x, w, rel) -> bool"},
    {"off_grid", k_off_grid, METH_VARARGS, "off_grid(arrays, q) -> tuple of None or [(score, have, want), ...]"},
    {"kept", k_kept, METH_VARARGS, "kept(z) -> tuple of the factors without NaN z-scores"},
    {"probe", k_probe, METH_VARARGS, "probe(name, a) -> float"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT, .m_name = "ckernels",
                                    .m_doc = "qvalid's compiled R-exact loops (see qvalid/core/kernels.py)",
                                    .m_size = -1, .m_methods = methods};

/* a function pointer from scipy's cython_blas / cython_lapack capsules */
static void *scipy_pointer(const char *module, const char *name)
{
    void *ptr = NULL;
    PyObject *mod = PyImport_ImportModule(module);
    if (!mod) return NULL;
    PyObject *capi = PyObject_GetAttrString(mod, "__pyx_capi__");
    Py_DECREF(mod);
    if (!capi) return NULL;
    PyObject *cap = PyMapping_GetItemString(capi, name);
    Py_DECREF(capi);
    if (!cap) return NULL;
    ptr = PyCapsule_GetPointer(cap, PyCapsule_GetName(cap));
    Py_DECREF(cap);
    return ptr;
}

PyMODINIT_FUNC PyInit_ckernels(void)
{
    p_dgemm = (dgemm_t)scipy_pointer("scipy.linalg.cython_blas", "dgemm");
    if (!p_dgemm) return NULL;
    p_dgesdd = (dgesdd_t)scipy_pointer("scipy.linalg.cython_lapack", "dgesdd");
    if (!p_dgesdd) return NULL;
    PyObject *mod = PyModule_Create(&moddef);
    if (!mod) return NULL;
    if (PyModule_AddIntConstant(mod, "LD_MANT_DIG", LDBL_MANT_DIG) < 0) {
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
