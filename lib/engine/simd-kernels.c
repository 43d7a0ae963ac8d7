// Lecture 04's Linear (no bias) -> BatchNorm1d -> Tanh block (and lecture 07's with its BatchNorm bug), its backward pass, the SGD update, and
// lecture 03's kernels (small matmuls, tanh and its gradient, bias gradients), as WebAssembly SIMD code that works in place on the WASM backend's own memory (the module imports
// it): no copies in or out, no XNNPACK operator to create and pack at every call.
//
// Built by build-simd-kernels.sh (beside this file) into simd-kernels-wasm.ts (base64); loaded by simd-kernels.ts.
// Pointers are byte offsets in the backend's memory. The code uses no stack and no static data, so it
// writes nothing but the outputs it is given. Matrices are row-major float32.
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(name)))

// ---------------------------------------------------------------------------------------------------
// c = a @ b: a [M, K] with strides (aRow, aCol) in floats (so a may be a transposed view), b [K, N]
// row-major, c [M, N] with strides (cRow, cCol). Tiles of 4 rows x 8 columns keep 8 sums in registers.

static inline void store4(float *c, int cCol, v128_t v) {
  if (cCol == 1) {
    wasm_v128_store(c, v);
  } else {
    c[0] = wasm_f32x4_extract_lane(v, 0);
    c[cCol] = wasm_f32x4_extract_lane(v, 1);
    c[2 * cCol] = wasm_f32x4_extract_lane(v, 2);
    c[3 * cCol] = wasm_f32x4_extract_lane(v, 3);
  }
}

#define MAD(sum, x, y) sum = wasm_f32x4_add(sum, wasm_f32x4_mul(x, y))

// The tiles: rows i..i+3 of a against columns j..j+7 (or j..j+3) of b.
static inline void tile4x8(const float *a, int aRow, int aCol, const float *b, float *c, int cRow, int cCol, int K, int N, int i, int j) {
  const float *a0 = a + i * aRow, *a1 = a0 + aRow, *a2 = a1 + aRow, *a3 = a2 + aRow;
  v128_t s00 = wasm_f32x4_splat(0), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
  const float *bk = b + j;
  for (int k = 0, ak = 0; k < K; k++, ak += aCol, bk += N) {
    v128_t b0 = wasm_v128_load(bk), b1 = wasm_v128_load(bk + 4);
    v128_t x0 = wasm_v128_load32_splat(a0 + ak), x1 = wasm_v128_load32_splat(a1 + ak);
    v128_t x2 = wasm_v128_load32_splat(a2 + ak), x3 = wasm_v128_load32_splat(a3 + ak);
    MAD(s00, x0, b0); MAD(s01, x0, b1);
    MAD(s10, x1, b0); MAD(s11, x1, b1);
    MAD(s20, x2, b0); MAD(s21, x2, b1);
    MAD(s30, x3, b0); MAD(s31, x3, b1);
  }
  float *cj = c + i * cRow + j * cCol;
  store4(cj, cCol, s00); store4(cj + 4 * cCol, cCol, s01);
  store4(cj + cRow, cCol, s10); store4(cj + cRow + 4 * cCol, cCol, s11);
  store4(cj + 2 * cRow, cCol, s20); store4(cj + 2 * cRow + 4 * cCol, cCol, s21);
  store4(cj + 3 * cRow, cCol, s30); store4(cj + 3 * cRow + 4 * cCol, cCol, s31);
}

static inline void tile4x4(const float *a, int aRow, int aCol, const float *b, float *c, int cRow, int cCol, int K, int N, int i, int j) {
  const float *a0 = a + i * aRow, *a1 = a0 + aRow, *a2 = a1 + aRow, *a3 = a2 + aRow;
  v128_t s0 = wasm_f32x4_splat(0), s1 = s0, s2 = s0, s3 = s0;
  const float *bk = b + j;
  for (int k = 0, ak = 0; k < K; k++, ak += aCol, bk += N) {
    v128_t b0 = wasm_v128_load(bk);
    MAD(s0, wasm_v128_load32_splat(a0 + ak), b0);
    MAD(s1, wasm_v128_load32_splat(a1 + ak), b0);
    MAD(s2, wasm_v128_load32_splat(a2 + ak), b0);
    MAD(s3, wasm_v128_load32_splat(a3 + ak), b0);
  }
  float *cj = c + i * cRow + j * cCol;
  store4(cj, cCol, s0); store4(cj + cRow, cCol, s1); store4(cj + 2 * cRow, cCol, s2); store4(cj + 3 * cRow, cCol, s3);
}

// Every output is its own sum over k, so where M or N is not a multiple of 4 the last tile overlaps
// the one before it (rows M-4..M-1, columns N-4..N-1) and writes the same values again: no scalar tail.
static void matmul(const float *a, int aRow, int aCol, const float *b, float *c, int cRow, int cCol, int M, int K, int N) {
  if (M < 4 || N < 4) { // too small for one tile
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++) {
        float s = 0;
        for (int k = 0; k < K; k++) s += a[i * aRow + k * aCol] * b[k * N + j];
        c[i * cRow + j * cCol] = s;
      }
    return;
  }
  for (int i = 0; i < M; i = i + 4 < M && i + 8 > M ? M - 4 : i + 4) {
    int j = 0;
    for (; j + 8 <= N; j += 8) tile4x8(a, aRow, aCol, b, c, cRow, cCol, K, N, i, j);
    while (j < N) {
      j = j + 4 <= N ? j : N - 4;
      tile4x4(a, aRow, aCol, b, c, cRow, cCol, K, N, i, j);
      j += 4;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Threaded matmul (threaded-matmul.ts): one product split by rows of c across threads that share the
// backend's memory. Each call computes rows [rowStart, rowEnd) of c = a @ b; every output is its own
// sum over k, so the rows come out with the same bits whichever thread computes them, in whatever order.
//
// b comes packed (pack_panels): its columns in panels of 8, each panel [K, 8] contiguous, the last
// one padded with zeros. A tile then reads b as one stream, 32 bytes a step, instead of 32 bytes from
// a new row (512 or 2,048 bytes on) at every k: the rows of b all fall in a few sets of the L1 cache
// and pages of the TLB, and evicted each other.

// panels [ceil(N / 8), K, 8] = b [K, N], b read with strides (bRow, bCol) in floats (a transposed view if bRow is 1).
EXPORT("pack_panels")
void pack_panels(const float *b, int bRow, int bCol, float *panels, int K, int N) {
  for (int j = 0; j < N; j += 8, panels += 8 * K) {
    int cols = N - j < 8 ? N - j : 8;
    if (cols == 8 && bCol == 1) {
      for (int k = 0; k < K; k++) {
        wasm_v128_store(panels + 8 * k, wasm_v128_load(b + k * bRow + j));
        wasm_v128_store(panels + 8 * k + 4, wasm_v128_load(b + k * bRow + j + 4));
      }
    } else {
      for (int k = 0; k < K; k++)
        for (int jj = 0; jj < 8; jj++) panels[8 * k + jj] = jj < cols ? b[k * bRow + (j + jj) * bCol] : 0;
    }
  }
}

// The first `cols` (1 to 8) of the 8 numbers (v0, v1) to c.
static inline void store_cols(float *c, v128_t v0, v128_t v1, int cols) {
  if (cols == 8) {
    wasm_v128_store(c, v0);
    wasm_v128_store(c + 4, v1);
    return;
  }
  if (cols >= 4) wasm_v128_store(c, v0);
  else {
    c[0] = wasm_f32x4_extract_lane(v0, 0);
    if (cols > 1) c[1] = wasm_f32x4_extract_lane(v0, 1);
    if (cols > 2) c[2] = wasm_f32x4_extract_lane(v0, 2);
    return;
  }
  if (cols > 4) c[4] = wasm_f32x4_extract_lane(v1, 0);
  if (cols > 5) c[5] = wasm_f32x4_extract_lane(v1, 1);
  if (cols > 6) c[6] = wasm_f32x4_extract_lane(v1, 2);
}

// Rows a0..a3 of a against one panel: 4 x 8 sums in registers. always_inline, so that each caller's
// constant strides (aCol = 1: a row-major; aRow = 1: a transposed view) fold into the loads' offsets.
__attribute__((always_inline)) static inline void panel_tile(const float *a, int aRow, int aCol, const float *panel, float *c, int K, int N, int cols) {
  const float *a0 = a, *a1 = a0 + aRow, *a2 = a1 + aRow, *a3 = a2 + aRow;
  v128_t s00 = wasm_f32x4_splat(0), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
  const float *bk = panel;
  for (int k = 0, ak = 0; k < K; k++, ak += aCol, bk += 8) {
    v128_t b0 = wasm_v128_load(bk), b1 = wasm_v128_load(bk + 4);
    v128_t x0 = wasm_v128_load32_splat(a0 + ak), x1 = wasm_v128_load32_splat(a1 + ak);
    v128_t x2 = wasm_v128_load32_splat(a2 + ak), x3 = wasm_v128_load32_splat(a3 + ak);
    MAD(s00, x0, b0); MAD(s01, x0, b1);
    MAD(s10, x1, b0); MAD(s11, x1, b1);
    MAD(s20, x2, b0); MAD(s21, x2, b1);
    MAD(s30, x3, b0); MAD(s31, x3, b1);
  }
  store_cols(c, s00, s01, cols);
  store_cols(c + N, s10, s11, cols);
  store_cols(c + 2 * N, s20, s21, cols);
  store_cols(c + 3 * N, s30, s31, cols);
}

// c [M, N] row-major = a @ panels. Where M is not a multiple of 4 the last tile overlaps the one before
// it and writes the same values again; fewer than 4 rows in all take a plain loop.
__attribute__((always_inline)) static inline void panel_matmul(const float *a, int aRow, int aCol, const float *panels, float *c, int M, int K, int N) {
  if (M < 4) {
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++) {
        float s = 0;
        for (int k = 0; k < K; k++) s += a[i * aRow + k * aCol] * panels[(j >> 3) * 8 * K + 8 * k + (j & 7)];
        c[i * N + j] = s;
      }
    return;
  }
  for (int i = 0; i < M; i = i + 4 < M && i + 8 > M ? M - 4 : i + 4)
    for (int j = 0; j < N; j += 8) panel_tile(a + i * aRow, aRow, aCol, panels + j * K, c + i * N + j, K, N, N - j < 8 ? N - j : 8);
}

// b: pack_panels's panels of b [K, N].
EXPORT("matmul_rows")
void matmul_rows(const float *a, int aRow, int aCol, const float *panels, float *c, int rowStart, int rowEnd, int K, int N) {
  a += rowStart * aRow;
  c += rowStart * N;
  if (aCol == 1) panel_matmul(a, aRow, 1, panels, c, rowEnd - rowStart, K, N);
  else if (aRow == 1) panel_matmul(a, 1, aCol, panels, c, rowEnd - rowStart, K, N);
  else panel_matmul(a, aRow, aCol, panels, c, rowEnd - rowStart, K, N);
}

// ---------------------------------------------------------------------------------------------------
// tanh: Eigen's rational approximation for float32 (as float32-tanh.ts), on [-7.905, 7.905]; beyond
// 9.02, where float32 tanh is exactly +-1, exactly +-1 (a saturated unit's gradient is then 0).

static inline v128_t tanh4(v128_t x) {
  const v128_t clamp = wasm_f32x4_splat(7.90531110763549805f);
  v128_t v = wasm_f32x4_pmax(wasm_f32x4_pmin(x, clamp), wasm_f32x4_neg(clamp));
  v128_t v2 = wasm_f32x4_mul(v, v);
  v128_t p = wasm_f32x4_splat(-2.76076847742355e-16f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, v2), wasm_f32x4_splat(2.00018790482477e-13f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, v2), wasm_f32x4_splat(-8.60467152213735e-11f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, v2), wasm_f32x4_splat(5.12229709037114e-08f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, v2), wasm_f32x4_splat(1.48572235717979e-05f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, v2), wasm_f32x4_splat(6.37261928875436e-04f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, v2), wasm_f32x4_splat(4.89352455891786e-03f));
  p = wasm_f32x4_mul(p, v);
  v128_t q = wasm_f32x4_splat(1.19825839466702e-06f);
  q = wasm_f32x4_add(wasm_f32x4_mul(q, v2), wasm_f32x4_splat(1.18534705686654e-04f));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, v2), wasm_f32x4_splat(2.26843463243900e-03f));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, v2), wasm_f32x4_splat(4.89352518554385e-03f));
  v128_t y = wasm_f32x4_div(p, q);
  v128_t one = wasm_v128_or(wasm_f32x4_splat(1.0f), wasm_v128_and(x, wasm_i32x4_splat((int)0x80000000))); // +-1
  return wasm_v128_bitselect(one, y, wasm_f32x4_ge(wasm_f32x4_abs(x), wasm_f32x4_splat(9.02f)));
}

// ---------------------------------------------------------------------------------------------------
// BatchNorm works column by column, on four columns at a time: columns j..j+3 of h [rows, cols].
// When cols is not a multiple of 4, the last group overlaps the one before (columns cols-4..cols-1):
// every column's numbers depend on that column alone, so its second computation writes the same
// values. The caller sends narrower blocks (cols < 4) elsewhere.

/** The next group's first column after j, or cols when done. */
static inline int nextGroup(int j, int cols) { return j + 4 < cols && j + 8 > cols ? cols - 4 : j + 4; }

/** The batch mean and biased variance of four columns, in two passes in float32 (as BatchNorm1d's ops). */
static inline void columnStatistics(const float *h, int rows, int cols, int j, v128_t *mean, v128_t *variance) {
  v128_t sum = wasm_f32x4_splat(0);
  for (int i = 0; i < rows; i++) sum = wasm_f32x4_add(sum, wasm_v128_load(h + i * cols + j));
  *mean = wasm_f32x4_div(sum, wasm_f32x4_splat(rows));
  v128_t squares = wasm_f32x4_splat(0);
  for (int i = 0; i < rows; i++) {
    v128_t d = wasm_f32x4_sub(wasm_v128_load(h + i * cols + j), *mean);
    squares = wasm_f32x4_add(squares, wasm_f32x4_mul(d, d));
  }
  *variance = wasm_f32x4_div(squares, wasm_f32x4_splat(rows));
}

#define SPLAT wasm_f32x4_splat
#define ADD wasm_f32x4_add
#define SUB wasm_f32x4_sub
#define MUL wasm_f32x4_mul
#define LOAD(p) wasm_v128_load(p)
#define STORE(p, v) wasm_v128_store(p, v)

// Forward: h = x @ weight; z = gamma (h - mean) / sqrt(variance + eps) + beta with the batch's mean
// and biased variance; y = tanh(z) (or z); the running statistics (1 - momentum) running + momentum
// batch, the variance unbiased (times B / (B - 1)), as PyTorch.
// `positions` P > 1 is lecture 07's BatchNorm bug (PositionwiseBatchNorm1d): x holds B examples of P
// positions as rows [B * P, inputs] (row b P + t), and the statistics are over the B examples only, one
// per (position, channel): h read as [B, P * cols], column t cols + c, which is the same memory. gamma
// and beta stay per channel [cols]; the running statistics are per (position, channel) [P * cols].
// With P > 1, cols must be a multiple of 4, so that no group of four columns spans two positions.
EXPORT("linear_batchnorm_forward")
void linear_batchnorm_forward(const float *x, const float *weight, const float *gamma, const float *beta, const float *runningMean,
                              const float *runningVar, float *h, float *z, float *y, float *newMean, float *newVar, int rows, int inputs,
                              int cols, int positions, float eps, float momentum, int tanh) {
  matmul(x, inputs, 1, weight, h, cols, 1, rows, inputs, cols);
  const int examples = rows / positions, wide = cols * positions;
  const v128_t m = SPLAT(momentum), keep = SPLAT(1 - momentum), unbiased = SPLAT((float)examples / (float)(examples - 1));
  for (int j = 0; j < wide; j = nextGroup(j, wide)) {
    v128_t mean, variance;
    columnStatistics(h, examples, wide, j, &mean, &variance);
    v128_t scale = wasm_f32x4_div(LOAD(gamma + j % cols), wasm_f32x4_sqrt(ADD(variance, SPLAT(eps))));
    v128_t shift = LOAD(beta + j % cols);
    for (int i = 0; i < examples; i++) {
      int k = i * wide + j;
      v128_t zk = ADD(MUL(SUB(LOAD(h + k), mean), scale), shift);
      STORE(z + k, zk);
      STORE(y + k, tanh ? tanh4(zk) : zk);
    }
    STORE(newMean + j, ADD(MUL(keep, LOAD(runningMean + j)), MUL(m, mean)));
    STORE(newVar + j, ADD(MUL(keep, LOAD(runningVar + j)), MUL(m, MUL(variance, unbiased))));
  }
}

// Backward, from dy = d loss / d y: dz = dy (1 - y^2) (or dy); BatchNorm's
//   dbeta = sum_i dz, dgamma = sum_i dz hhat, dh = gamma invStd / B (B dz - dbeta - hhat dgamma),
// with hhat = (h - mean) invStd; then dweight = x^T @ dh and dx = (weight @ dh^T)^T. dh [rows, cols]
// and dhT [cols, rows] are scratch space. With P > 1 positions (see the forward), per (position,
// channel) column, dgamma and dbeta summed over the positions, and dhT's element (c, b P + t).
EXPORT("linear_batchnorm_backward")
void linear_batchnorm_backward(const float *x, const float *weight, const float *gamma, const float *h, const float *y, const float *dy,
                               float *dx, float *dweight, float *dgamma, float *dbeta, float *dh, float *dhT, int rows, int inputs, int cols,
                               int positions, float eps, int tanh) {
  const int examples = rows / positions, wide = cols * positions;
  const v128_t one = SPLAT(1), perRow = SPLAT(1.0f / examples);
  for (int j = 0; j < wide; j = nextGroup(j, wide)) {
    const int c0 = j % cols, t = j / cols;
    v128_t mean, variance;
    columnStatistics(h, examples, wide, j, &mean, &variance);
    v128_t invStd = wasm_f32x4_div(one, wasm_f32x4_sqrt(ADD(variance, SPLAT(eps))));
    v128_t sumDz = SPLAT(0), sumDzCentred = SPLAT(0);
    for (int i = 0; i < examples; i++) {
      int k = i * wide + j;
      v128_t dz = tanh ? MUL(LOAD(dy + k), SUB(one, MUL(LOAD(y + k), LOAD(y + k)))) : LOAD(dy + k);
      sumDz = ADD(sumDz, dz);
      sumDzCentred = ADD(sumDzCentred, MUL(dz, SUB(LOAD(h + k), mean)));
    }
    v128_t dgammaJ = MUL(invStd, sumDzCentred);
    // dh = a dz + b (h - mean) + c, the formula above multiplied out
    v128_t a = MUL(LOAD(gamma + c0), invStd);
    v128_t b = wasm_f32x4_neg(MUL(MUL(a, MUL(dgammaJ, invStd)), perRow));
    v128_t c = wasm_f32x4_neg(MUL(MUL(a, sumDz), perRow));
    for (int i = 0; i < examples; i++) {
      int k = i * wide + j;
      v128_t dz = tanh ? MUL(LOAD(dy + k), SUB(one, MUL(LOAD(y + k), LOAD(y + k)))) : LOAD(dy + k);
      v128_t dhk = ADD(ADD(MUL(a, dz), MUL(b, SUB(LOAD(h + k), mean))), c);
      STORE(dh + k, dhk);
      store4(dhT + c0 * rows + i * positions + t, rows, dhk);
    }
    // The first position stores (with P = 1, an overlapping last group stores the same values again); the others add.
    STORE(dgamma + c0, t == 0 ? dgammaJ : ADD(LOAD(dgamma + c0), dgammaJ));
    STORE(dbeta + c0, t == 0 ? sumDz : ADD(LOAD(dbeta + c0), sumDz));
  }
  matmul(x, 1, inputs, dh, dweight, cols, 1, inputs, rows, cols); // x^T [inputs, rows] @ dh [rows, cols]
  matmul(weight, cols, 1, dhT, dx, 1, inputs, inputs, cols, rows); // weight [inputs, cols] @ dh^T [cols, rows], stored transposed
}

// ---------------------------------------------------------------------------------------------------
// SGD: out = parameter - learningRate * gradient, n numbers.

EXPORT("sgd_update")
void sgd_update(const float *parameter, const float *gradient, float *out, int n, float learningRate) {
  v128_t rate = wasm_f32x4_splat(learningRate);
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, wasm_f32x4_sub(wasm_v128_load(parameter + i), wasm_f32x4_mul(rate, wasm_v128_load(gradient + i))));
  for (; i < n; i++) out[i] = parameter[i] - learningRate * gradient[i];
}

// ---------------------------------------------------------------------------------------------------
// Lecture 03's step, kernel by kernel. Each gives the same bits as the kernel it replaces: the
// matmul sums k in order from 0 with a multiply then an add, as XNNPACK's; tanh, its gradient and
// the column sums compute in float64 and round once, as the JS loops they replace (float32-tanh.ts).

// c [M, N] = a [M, K] @ b [K, N], a read with strides (aRow, aCol) so that it may be a transposed view.
EXPORT("matmul")
void matmul_export(const float *a, int aRow, int aCol, const float *b, float *c, int M, int K, int N) {
  matmul(a, aRow, aCol, b, c, N, 1, M, K, N);
}

// out [cols, rows] = x [rows, cols] transposed.
EXPORT("transpose")
void transpose(const float *x, float *out, int rows, int cols) {
  for (int i = 0; i < rows; i++)
    for (int j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j];
}

#define TANH_CLAMP 7.90531110763549805
#define TANH_ONE 9.02

static inline v128_t tanh2(v128_t v) { // two float64 lanes, |v| <= TANH_CLAMP: float32-tanh.ts's p / q
  const v128_t v2 = wasm_f64x2_mul(v, v);
#define P(c, rest) wasm_f64x2_add(wasm_f64x2_splat(c), wasm_f64x2_mul(v2, rest))
  v128_t p = wasm_f64x2_mul(v, P(4.89352455891786e-3, P(6.37261928875436e-4, P(1.48572235717979e-5, P(5.12229709037114e-8,
                        P(-8.60467152213735e-11, P(2.00018790482477e-13, wasm_f64x2_splat(-2.76076847742355e-16))))))));
  v128_t q = P(4.89352518554385e-3, P(2.268434632439e-3, P(1.18534705686654e-4, wasm_f64x2_splat(1.19825839466702e-6))));
#undef P
  return wasm_f64x2_div(p, q);
}

// y = tanh(x) for n numbers, as float32-tanh.ts: where |x| >= 9.02 exactly +-1; where 7.905 < |x| <
// 9.02 (which needs exp) the caller computes y: their indices go to `left` (room for n), and their
// count is returned.
EXPORT("tanh_forward")
int tanh_forward(const float *x, float *y, int *leftAt, int n) {
  int left = 0;
  int i = 0;
  const v128_t clamp = wasm_f32x4_splat((float)TANH_CLAMP);
  for (; i + 4 <= n; i += 4) {
    v128_t xi = wasm_v128_load(x + i);
    v128_t lo = tanh2(wasm_f64x2_promote_low_f32x4(xi));
    v128_t hi = tanh2(wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(xi, xi, 2, 3, 0, 1)));
    v128_t yi = wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(lo), wasm_f32x4_demote_f64x2_zero(hi), 0, 1, 4, 5);
    v128_t big = wasm_f32x4_gt(wasm_f32x4_abs(xi), clamp);
    if (wasm_v128_any_true(big)) {
      v128_t one = wasm_v128_or(wasm_f32x4_splat(1.0f), wasm_v128_and(xi, wasm_i32x4_splat((int)0x80000000))); // +-1
      v128_t saturated = wasm_f32x4_ge(wasm_f32x4_abs(xi), wasm_f32x4_splat((float)TANH_ONE));
      yi = wasm_v128_bitselect(one, yi, big);
      int band = wasm_i32x4_bitmask(wasm_v128_andnot(big, saturated));
      for (int lane = 0; lane < 4; lane++)
        if (band & (1 << lane)) leftAt[left++] = i + lane;
    }
    wasm_v128_store(y + i, yi);
  }
  for (; i < n; i++) {
    double v = x[i], a = v < 0 ? -v : v;
    if (a > TANH_CLAMP) {
      y[i] = v < 0 ? -1.0f : 1.0f;
      if (a < TANH_ONE) leftAt[left++] = i;
    } else {
      y[i] = (float)wasm_f64x2_extract_lane(tanh2(wasm_f64x2_splat(v)), 0);
    }
  }
  return left;
}

// dx = dy (1 - y^2), in float64 rounded once (as the JS loop it replaces).
EXPORT("tanh_backward")
void tanh_backward(const float *y, const float *dy, float *dx, int n) {
  const v128_t one = wasm_f64x2_splat(1);
  int i = 0;
  for (; i + 2 <= n; i += 2) {
    v128_t yi = wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(y + i));
    v128_t dyi = wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(dy + i));
    v128_t dxi = wasm_f32x4_demote_f64x2_zero(wasm_f64x2_mul(dyi, wasm_f64x2_sub(one, wasm_f64x2_mul(yi, yi))));
    wasm_v128_store64_lane(dx + i, dxi, 0);
  }
  for (; i < n; i++) dx[i] = (float)((double)dy[i] * (1.0 - (double)y[i] * (double)y[i]));
}

// out [inner] = the sum of the rows of x [rows, inner], each column summed in row order in float64
// (a bias's gradient), eight columns at a time.
EXPORT("sum_rows")
void sum_rows(const float *x, float *out, int rows, int inner) {
  int j = 0;
  for (; j + 8 <= inner; j += 8) {
    v128_t s0 = wasm_f64x2_splat(0), s1 = s0, s2 = s0, s3 = s0;
    for (int i = 0; i < rows; i++) {
      const float *r = x + i * inner + j;
      v128_t a = wasm_v128_load(r), b = wasm_v128_load(r + 4);
      s0 = wasm_f64x2_add(s0, wasm_f64x2_promote_low_f32x4(a));
      s1 = wasm_f64x2_add(s1, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(a, a, 2, 3, 0, 1)));
      s2 = wasm_f64x2_add(s2, wasm_f64x2_promote_low_f32x4(b));
      s3 = wasm_f64x2_add(s3, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(b, b, 2, 3, 0, 1)));
    }
    wasm_v128_store(out + j, wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(s0), wasm_f32x4_demote_f64x2_zero(s1), 0, 1, 4, 5));
    wasm_v128_store(out + j + 4, wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(s2), wasm_f32x4_demote_f64x2_zero(s3), 0, 1, 4, 5));
  }
  for (; j < inner; j++) {
    double s = 0;
    for (int i = 0; i < rows; i++) s += x[i * inner + j];
    out[j] = (float)s;
  }
}

// ===================================================================================================
// Lecture 05's GPT step apart from its matmuls (gpt-kernels.ts): ReLU's gradient, LayerNorm each
// way, the gradients' sum of squares (clipping's norm) and AdamW's update. Rows of LayerNorm are
// read four numbers at a time, so the caller sends rows whose length is a multiple of 4 here.

// dx = dy * step(x): dy where x > 0, dy * 0 elsewhere, NaN where x is NaN (as the JS loop it replaces).
EXPORT("relu_backward")
void relu_backward(const float *x, const float *dy, float *dx, int n) {
  const v128_t one = wasm_f32x4_splat(1), zero = wasm_f32x4_splat(0), nan = wasm_f32x4_splat(__builtin_nanf(""));
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t xi = wasm_v128_load(x + i);
    v128_t step = wasm_v128_bitselect(one, zero, wasm_f32x4_gt(xi, zero));
    step = wasm_v128_bitselect(nan, step, wasm_f32x4_ne(xi, xi));
    wasm_v128_store(dx + i, wasm_f32x4_mul(wasm_v128_load(dy + i), step));
  }
  for (; i < n; i++) dx[i] = dy[i] * (x[i] > 0 ? 1.0f : x[i] == x[i] ? 0.0f : __builtin_nanf(""));
}

static inline float horizontalSum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) + (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

/** A row's mean and biased variance (two passes, float32 sums over four lanes). */
static inline void rowStatistics(const float *row, int cols, float *mean, float *variance) {
  v128_t sum = wasm_f32x4_splat(0);
  for (int j = 0; j < cols; j += 4) sum = wasm_f32x4_add(sum, wasm_v128_load(row + j));
  float m = horizontalSum(sum) / (float)cols;
  v128_t mv = wasm_f32x4_splat(m), squares = wasm_f32x4_splat(0);
  for (int j = 0; j < cols; j += 4) {
    v128_t d = wasm_f32x4_sub(wasm_v128_load(row + j), mv);
    squares = wasm_f32x4_add(squares, wasm_f32x4_mul(d, d));
  }
  *mean = m;
  *variance = horizontalSum(squares) / (float)cols;
}

// y = (x - mean) / sqrt(variance + eps) * gamma + beta for each row of x [rows, cols], the plain
// formula's float32 operations in its order.
EXPORT("layernorm_forward")
void layernorm_forward(const float *x, const float *gamma, const float *beta, float *y, int rows, int cols, float eps) {
  for (int i = 0; i < rows; i++) {
    const float *row = x + i * cols;
    float mean, variance;
    rowStatistics(row, cols, &mean, &variance);
    v128_t mv = wasm_f32x4_splat(mean), std = wasm_f32x4_splat(__builtin_sqrtf(variance + eps));
    for (int j = 0; j < cols; j += 4) {
      v128_t normal = wasm_f32x4_div(wasm_f32x4_sub(wasm_v128_load(row + j), mv), std);
      wasm_v128_store(y + i * cols + j, wasm_f32x4_add(wasm_f32x4_mul(normal, wasm_v128_load(gamma + j)), wasm_v128_load(beta + j)));
    }
  }
}

// From dy: with xhat = (x - mean) invStd and g = dy gamma, per row
//   dx = invStd (g - mean_j(g) - xhat mean_j(g xhat)),
// and over all rows dgamma = sum_i dy xhat, dbeta = sum_i dy (both accumulated in float32, row order).
EXPORT("layernorm_backward")
void layernorm_backward(const float *x, const float *gamma, const float *dy, float *dx, float *dgamma, float *dbeta, int rows, int cols, float eps) {
  for (int j = 0; j < cols; j += 4) {
    wasm_v128_store(dgamma + j, wasm_f32x4_splat(0));
    wasm_v128_store(dbeta + j, wasm_f32x4_splat(0));
  }
  for (int i = 0; i < rows; i++) {
    const float *row = x + i * cols, *dyRow = dy + i * cols;
    float mean, variance;
    rowStatistics(row, cols, &mean, &variance);
    float invStd = 1.0f / __builtin_sqrtf(variance + eps);
    v128_t mv = wasm_f32x4_splat(mean), iv = wasm_f32x4_splat(invStd);
    v128_t sumG = wasm_f32x4_splat(0), sumGX = wasm_f32x4_splat(0);
    for (int j = 0; j < cols; j += 4) {
      v128_t xhat = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(row + j), mv), iv);
      v128_t d = wasm_v128_load(dyRow + j);
      v128_t g = wasm_f32x4_mul(d, wasm_v128_load(gamma + j));
      sumG = wasm_f32x4_add(sumG, g);
      sumGX = wasm_f32x4_add(sumGX, wasm_f32x4_mul(g, xhat));
      wasm_v128_store(dgamma + j, wasm_f32x4_add(wasm_v128_load(dgamma + j), wasm_f32x4_mul(d, xhat)));
      wasm_v128_store(dbeta + j, wasm_f32x4_add(wasm_v128_load(dbeta + j), d));
    }
    v128_t meanG = wasm_f32x4_splat(horizontalSum(sumG) / (float)cols), meanGX = wasm_f32x4_splat(horizontalSum(sumGX) / (float)cols);
    for (int j = 0; j < cols; j += 4) {
      v128_t xhat = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(row + j), mv), iv);
      v128_t g = wasm_f32x4_mul(wasm_v128_load(dyRow + j), wasm_v128_load(gamma + j));
      wasm_v128_store(dx + i * cols + j, wasm_f32x4_mul(iv, wasm_f32x4_sub(wasm_f32x4_sub(g, meanG), wasm_f32x4_mul(xhat, meanGX))));
    }
  }
}

// The sum of g^2 over n numbers as the plain formula's kernels compute it (g.square().sum()): each
// square rounded to float32, added in order into one float32 sum.
EXPORT("sum_of_squares")
float sum_of_squares(const float *g, int n) {
  float s = 0;
  for (int i = 0; i < n; i++) s += g[i] * g[i];
  return s;
}

// One AdamW update of n numbers, in float64 rounded once per output, the JS loop's operations in its
// order (so the same bits):
//   m' = beta1 m + (1 - beta1) g;  v' = beta2 v + (1 - beta2) g g;  p' = decay p - stepSize m' / (sqrt(v') + epsilon)
EXPORT("adamw_update")
void adamw_update(const float *p, const float *g, const float *m, const float *v, float *newP, float *newM, float *newV, int n,
                  double beta1, double beta2, double stepSize, double epsilon, double decay) {
  const v128_t b1 = wasm_f64x2_splat(beta1), b2 = wasm_f64x2_splat(beta2), c1 = wasm_f64x2_splat(1 - beta1), c2 = wasm_f64x2_splat(1 - beta2);
  const v128_t step = wasm_f64x2_splat(stepSize), e = wasm_f64x2_splat(epsilon), d = wasm_f64x2_splat(decay);
  int i = 0;
  for (; i + 2 <= n; i += 2) {
    v128_t gi = wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(g + i));
    v128_t mi = wasm_f64x2_add(wasm_f64x2_mul(b1, wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(m + i))), wasm_f64x2_mul(c1, gi));
    v128_t vi = wasm_f64x2_add(wasm_f64x2_mul(b2, wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(v + i))), wasm_f64x2_mul(wasm_f64x2_mul(c2, gi), gi));
    v128_t pi = wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(p + i));
    v128_t update = wasm_f64x2_div(wasm_f64x2_mul(step, mi), wasm_f64x2_add(wasm_f64x2_sqrt(vi), e));
    wasm_v128_store64_lane(newM + i, wasm_f32x4_demote_f64x2_zero(mi), 0);
    wasm_v128_store64_lane(newV + i, wasm_f32x4_demote_f64x2_zero(vi), 0);
    wasm_v128_store64_lane(newP + i, wasm_f32x4_demote_f64x2_zero(wasm_f64x2_sub(wasm_f64x2_mul(d, pi), update)), 0);
  }
  for (; i < n; i++) {
    double gi = g[i], mi = beta1 * m[i] + (1 - beta1) * gi, vi = beta2 * v[i] + (1 - beta2) * gi * gi;
    newM[i] = (float)mi;
    newV[i] = (float)vi;
    newP[i] = (float)(decay * p[i] - (stepSize * mi) / (__builtin_sqrt(vi) + epsilon));
  }
}

// out = x * s for n numbers (float32, as tf.mul): the clipped gradients.
EXPORT("scale")
void scale(const float *x, float *out, int n, float s) {
  v128_t sv = wasm_f32x4_splat(s);
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, wasm_f32x4_mul(wasm_v128_load(x + i), sv));
  for (; i < n; i++) out[i] = x[i] * s;
}

// Attention's weights: softmax(scores * scale + mask) along each row of T numbers, the mask [maskRows, T]
// repeating over the batch and heads (row i takes mask row i % maskRows). exp is Cephes' float32
// polynomial after a reduction by ln 2 (within 2 ulp of expf); exp of a number below -87.3 (the masked
// -Infinity among them) is 0.

static inline v128_t exp4(v128_t x) {
  v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)));
  v128_t r = wasm_f32x4_sub(wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f))), wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t p = wasm_f32x4_splat(1.9875691500e-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.3981999507e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(8.3334519073e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(4.1665795894e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.6666665459e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(5.0000001201e-1f));
  v128_t y = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(p, wasm_f32x4_mul(r, r)), r), wasm_f32x4_splat(1));
  v128_t tiny = wasm_f32x4_lt(x, wasm_f32x4_splat(-87.3f));
  v128_t n0 = wasm_v128_bitselect(wasm_f32x4_splat(0), n, tiny); // keeps 2^n's exponent in range where the result is 0 anyway
  v128_t pow2n = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n0), wasm_i32x4_splat(127)), 23);
  return wasm_v128_bitselect(wasm_f32x4_splat(0), wasm_f32x4_mul(y, pow2n), tiny);
}

static inline float exp1(float x) { return wasm_f32x4_extract_lane(exp4(wasm_f32x4_splat(x)), 0); }
static inline float max1(float a, float b) { return b > a ? b : a; }

EXPORT("masked_softmax_forward")
void masked_softmax_forward(const float *scores, const float *mask, float *y, int rows, int T, int maskRows, float scale) {
  const v128_t sv = wasm_f32x4_splat(scale);
  for (int i = 0; i < rows; i++) {
    const float *s = scores + i * T, *m = mask + (i % maskRows) * T;
    float *out = y + i * T;
    v128_t maxv = wasm_f32x4_splat(-__builtin_inff());
    int j = 0;
    for (; j + 4 <= T; j += 4) {
      v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(s + j), sv), wasm_v128_load(m + j));
      wasm_v128_store(out + j, v);
      maxv = wasm_f32x4_pmax(maxv, v);
    }
    float max = max1(max1(wasm_f32x4_extract_lane(maxv, 0), wasm_f32x4_extract_lane(maxv, 1)),
                                max1(wasm_f32x4_extract_lane(maxv, 2), wasm_f32x4_extract_lane(maxv, 3)));
    for (; j < T; j++) {
      out[j] = s[j] * scale + m[j];
      max = max1(max, out[j]);
    }
    v128_t mv = wasm_f32x4_splat(max), sumv = wasm_f32x4_splat(0);
    for (j = 0; j + 4 <= T; j += 4) {
      v128_t e = exp4(wasm_f32x4_sub(wasm_v128_load(out + j), mv));
      wasm_v128_store(out + j, e);
      sumv = wasm_f32x4_add(sumv, e);
    }
    float sum = horizontalSum(sumv);
    for (; j < T; j++) sum += out[j] = exp1(out[j] - max);
    v128_t total = wasm_f32x4_splat(sum);
    for (j = 0; j + 4 <= T; j += 4) wasm_v128_store(out + j, wasm_f32x4_div(wasm_v128_load(out + j), total));
    for (; j < T; j++) out[j] /= sum;
  }
}

// d scores = (dy y - y sum_j(dy y)) * scale, per row: softmax's gradient, then the scale's.
EXPORT("masked_softmax_backward")
void masked_softmax_backward(const float *y, const float *dy, float *dscores, int rows, int T, float scale) {
  const v128_t sv = wasm_f32x4_splat(scale);
  for (int i = 0; i < rows; i++) {
    const float *yi = y + i * T, *dyi = dy + i * T;
    float *out = dscores + i * T;
    v128_t dotv = wasm_f32x4_splat(0);
    int j = 0;
    for (; j + 4 <= T; j += 4) dotv = wasm_f32x4_add(dotv, wasm_f32x4_mul(wasm_v128_load(dyi + j), wasm_v128_load(yi + j)));
    float dot = horizontalSum(dotv);
    for (; j < T; j++) dot += dyi[j] * yi[j];
    v128_t dv = wasm_f32x4_splat(dot);
    for (j = 0; j + 4 <= T; j += 4) {
      v128_t yv = wasm_v128_load(yi + j);
      wasm_v128_store(out + j, wasm_f32x4_mul(wasm_f32x4_sub(wasm_f32x4_mul(wasm_v128_load(dyi + j), yv), wasm_f32x4_mul(dv, yv)), sv));
    }
    for (; j < T; j++) out[j] = (dyi[j] * yi[j] - dot * yi[j]) * scale;
  }
}

// Cross-entropy over rows of `classes` logits (a whole data set's, where Math.exp in JavaScript took ~20 ns
// a number): each row's maximum and sum of exp(logit - max) go to rowMax[i] and rowSum[i]; with a `grad`
// (not 0), (softmax(row) - onehot(target)) * scale goes there, from the same exps. The caller has checked
// every target is a class index, and adds up the loss, max + log(sum) - logit[target], from these.
EXPORT("cross_entropy_rows")
void cross_entropy_rows(const float *logits, const int *targets, float *grad, float *rowMax, float *rowSum, int rows, int classes, float scale) {
  for (int i = 0; i < rows; i++) {
    const float *x = logits + i * classes;
    v128_t maxv = wasm_f32x4_splat(-__builtin_inff());
    int j = 0;
    for (; j + 4 <= classes; j += 4) maxv = wasm_f32x4_pmax(maxv, wasm_v128_load(x + j));
    float max = max1(max1(wasm_f32x4_extract_lane(maxv, 0), wasm_f32x4_extract_lane(maxv, 1)),
                     max1(wasm_f32x4_extract_lane(maxv, 2), wasm_f32x4_extract_lane(maxv, 3)));
    for (; j < classes; j++) max = max1(max, x[j]);
    v128_t mv = wasm_f32x4_splat(max), sumv = wasm_f32x4_splat(0);
    float sum = 0;
    if (grad) {
      float *g = grad + i * classes;
      for (j = 0; j + 4 <= classes; j += 4) {
        v128_t e = exp4(wasm_f32x4_sub(wasm_v128_load(x + j), mv));
        wasm_v128_store(g + j, e);
        sumv = wasm_f32x4_add(sumv, e);
      }
      sum = horizontalSum(sumv);
      for (; j < classes; j++) sum += g[j] = exp1(x[j] - max);
      v128_t factor = wasm_f32x4_splat(scale / sum);
      for (j = 0; j + 4 <= classes; j += 4) wasm_v128_store(g + j, wasm_f32x4_mul(wasm_v128_load(g + j), factor));
      for (; j < classes; j++) g[j] *= scale / sum;
      g[targets[i]] -= scale;
    } else {
      for (j = 0; j + 4 <= classes; j += 4) sumv = wasm_f32x4_add(sumv, exp4(wasm_f32x4_sub(wasm_v128_load(x + j), mv)));
      sum = horizontalSum(sumv);
      for (; j < classes; j++) sum += exp1(x[j] - max);
    }
    rowMax[i] = max;
    rowSum[i] = sum;
  }
}
