/**
 * Hand-assembled WebAssembly SIMD loops that run directly on the tfjs wasm heap (the module
 * imports the backend's own WebAssembly.Memory): element-wise passes, Winograd transforms,
 * transposes, first-layer filter gradients and a register-tiled GEMM, where plain JS loops are
 * ~10x slower and no stock kernel fits (or the stock one repacks its operands). No toolchain is
 * needed: the bytes are emitted below. If this engine cannot compile SIMD, `simdKernels` returns
 * undefined and callers keep their other paths.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

const I32 = 0x7f;
const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const str = (s: string) => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];

// Instructions.
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const i32 = (n: number) => [0x41, ...sleb(n)];
const add = [0x6a];
const mul = [0x6c];
const ltU = [0x49];
const loop = [0x03, 0x40];
const end = [0x0b];
const brIf = (depth: number) => [0x0d, ...uleb(depth)];
/** The end of a counted loop: v += step; repeat while v < limit (unsigned); close the block. */
const next = (v: number, step: number, limit: number) => [...get(v), ...i32(step), ...add, ...set(v), ...get(v), ...get(limit), ...ltU, ...brIf(0), ...end];

/**
 * The loop nest of a one-pass filter gradient over images b < n and output pixels (oh < ho,
 * ow < wo): `body` runs per pixel with `dp` at its dy row and `xrow` at its input window; then dp
 * advances by coBytes and xrow by step, by rowAdvance after each output row and by rowSkip after
 * each image (see tapsOuter).
 */
function pixelLoops(
  l: { b: number; oh: number; ow: number; n: number; ho: number; wo: number; dp: number; coBytes: number; xrow: number; step: number; rowAdvance: number; rowSkip: number },
  body: number[],
): number[] {
  return [
    ...i32(0), ...set(l.b),
    ...loop,
    ...i32(0), ...set(l.oh),
    ...loop,
    ...i32(0), ...set(l.ow),
    ...loop,
    ...body,
    ...get(l.dp), ...get(l.coBytes), ...add, ...set(l.dp),
    ...get(l.xrow), ...get(l.step), ...add, ...set(l.xrow),
    ...next(l.ow, 1, l.wo),
    ...get(l.xrow), ...get(l.rowAdvance), ...add, ...set(l.xrow),
    ...next(l.oh, 1, l.ho),
    ...get(l.xrow), ...get(l.rowSkip), ...add, ...set(l.xrow),
    ...next(l.b, 1, l.n),
  ];
}

/**
 * The loop nest of a Winograd transform over images b < n, tile rows ty < th, tile columns
 * tx < tw and 4-channel slices k < cBytes: `perRow` runs at each (b, ty), `perTile` at each tile,
 * `body` at each slice; after each tile the local `tileSlot` advances by cBytes (the tile's place
 * in the planes). Locals (indices) are the caller's.
 */
function tileLoops(
  l: { b: number; ty: number; tx: number; k: number; n: number; th: number; tw: number; cBytes: number; tileSlot: number },
  perRow: number[],
  perTile: number[],
  body: number[],
): number[] {
  return [
    ...i32(0), ...set(l.b),
    ...loop,
    ...i32(0), ...set(l.ty),
    ...loop,
    ...perRow,
    ...i32(0), ...set(l.tx),
    ...loop,
    ...perTile,
    ...i32(0), ...set(l.k),
    ...loop,
    ...body,
    ...next(l.k, 16, l.cBytes),
    ...get(l.tileSlot), ...get(l.cBytes), ...add, ...set(l.tileSlot),
    ...next(l.tx, 1, l.tw),
    ...next(l.ty, 1, l.th),
    ...next(l.b, 1, l.n),
  ];
}
const simd = (op: number) => [0xfd, ...uleb(op)];
const load = [...simd(0x00), 0x00, 0x00]; // v128.load align=1 offset=0
const store = [...simd(0x0b), 0x00, 0x00];
const f32x4Eq = simd(0x41);
const vNot = simd(0x4d);
const vAnd = simd(0x4e);
const vAndNot = simd(0x4f);
const f32x4Add = simd(0xe4);
const f32x4Sub = simd(0xe5);
const f32x4Mul = simd(0xe6);
const f32x4Div = simd(0xe7);
const f32x4Sqrt = simd(0xe3);
const f32x4Splat = simd(0x13);
const f32Const = (v: number) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)];

interface Fn {
  name: string;
  locals: [number, number][];
  code: number[];
}

/**
 * maxPoolGrad2x2(x, y, dy, dx, rows, wo, cBytes): for 2x2/stride-2 windows, each dx element gets
 * dy where it is the first (row-major) element equal to the pooled max y, else 0. Byte pointers;
 * cBytes = channels * 4 (channels % 4 == 0). Locals: r 7, ow 8, k 9, o 10, p 11, rowBytes 12,
 * v 13, g 14, rem 15, m 16.
 */
function maxPoolGrad2x2(): Fn {
  const [X, Y, DY, DX, ROWS, WO, CB, R, OW, K, O, P, RB, V, G, REM, M] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
  const at = (base: number, extra: number[]) => [...get(base), ...get(P), ...add, ...extra, ...get(K), ...add];
  const xAt = (extra: number[]) => at(X, extra);
  const dxAt = (extra: number[]) => at(DX, extra);
  const position = (extra: number[], first: boolean, last: boolean) => [
    ...dxAt(extra),
    ...xAt(extra),
    ...load,
    ...get(V),
    ...f32x4Eq,
    ...(first ? [] : [...get(REM), ...vAnd]),
    ...set(M),
    ...get(G),
    ...get(M),
    ...vAnd,
    ...store,
    ...(last ? [] : first ? [...get(M), ...vNot, ...set(REM)] : [...get(REM), ...get(M), ...vAndNot, ...set(REM)]),
  ];
  const code = [
    // rowBytes = wo * 2 * cBytes
    ...get(WO), ...get(CB), ...mul, ...i32(2), ...mul, ...set(RB),
    ...i32(0), ...set(R), ...i32(0), ...set(O), ...i32(0), ...set(P),
    ...loop,
    ...i32(0), ...set(OW),
    ...loop,
    ...i32(0), ...set(K),
    ...loop,
    ...get(Y), ...get(O), ...add, ...get(K), ...add, ...load, ...set(V),
    ...get(DY), ...get(O), ...add, ...get(K), ...add, ...load, ...set(G),
    ...position([], true, false),
    ...position([...get(CB), ...add], false, false),
    ...position([...get(RB), ...add], false, false),
    ...position([...get(RB), ...add, ...get(CB), ...add], false, true),
    ...next(K, 16, CB),
    ...get(O), ...get(CB), ...add, ...set(O),
    ...get(P), ...get(CB), ...i32(2), ...mul, ...add, ...set(P),
    ...next(OW, 1, WO),
    ...get(P), ...get(RB), ...add, ...set(P),
    ...next(R, 1, ROWS),
  ];
  return { name: 'maxPoolGrad2x2', locals: [[6, I32], [4, V128]], code };
}

/**
 * adam(x, g, m, v, out, bytes, lr, b1, b2, eps, k1, k2) over float32 arrays (bytes % 16 == 0):
 * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²; out = x - lr (m k1) / (sqrt(v k2) + eps), in f32
 * like tf.train.adam. Pointers are i32 byte addresses, the six scalars f32. Locals: i 12, v128s after.
 */
function adam(): Fn {
  const [X, G, Mm, Vv, OUT, BYTES, LR, B1, B2, EPS, K1, K2, I] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const [SLR, SB1, SB2, SC1, SC2, SEPS, SK1, SK2, GV, MV, VV] = [13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23];
  const splat = (from: number[], to: number) => [...from, ...f32x4Splat, ...set(to)];
  const ptr = (base: number) => [...get(base), ...get(I), ...add];
  const code = [
    ...splat(get(LR), SLR),
    ...splat(get(B1), SB1),
    ...splat(get(B2), SB2),
    ...splat([...f32Const(1), ...get(B1), 0x93], SC1), // f32.sub
    ...splat([...f32Const(1), ...get(B2), 0x93], SC2),
    ...splat(get(EPS), SEPS),
    ...splat(get(K1), SK1),
    ...splat(get(K2), SK2),
    ...i32(0), ...set(I),
    ...loop,
    ...ptr(G), ...load, ...set(GV),
    // m' = b1 m + c1 g
    ...ptr(Mm), ...load, ...get(SB1), ...f32x4Mul, ...get(SC1), ...get(GV), ...f32x4Mul, ...f32x4Add, ...set(MV),
    // v' = b2 v + c2 g g
    ...ptr(Vv), ...load, ...get(SB2), ...f32x4Mul, ...get(SC2), ...get(GV), ...f32x4Mul, ...get(GV), ...f32x4Mul, ...f32x4Add, ...set(VV),
    ...ptr(Mm), ...get(MV), ...store,
    ...ptr(Vv), ...get(VV), ...store,
    // out = x - lr * (m' k1) / (sqrt(v' k2) + eps)
    ...ptr(OUT),
    ...ptr(X), ...load,
    ...get(SLR), ...get(MV), ...get(SK1), ...f32x4Mul, ...f32x4Mul,
    ...get(VV), ...get(SK2), ...f32x4Mul, ...f32x4Sqrt, ...get(SEPS), ...f32x4Add,
    ...f32x4Div,
    ...f32x4Sub,
    ...store,
    ...next(I, 16, BYTES),
  ];
  return { name: 'adam', locals: [[1, I32], [11, V128]], code };
}

const F32 = 0x7d;
const f32Load = [0x2a, 0x02, 0x00];

/**
 * tapCorrelate(x, dy, acc, n, h, w, cBytes, ho, wo, sh, sw, offH, offW, oh0, oh1, ow0, ow1):
 * acc[c] += sum over batch b and output pixels (oh in [oh0,oh1), ow in [ow0,ow1)) of
 * x[b, oh*sh + offH, ow*sw + offW, c] * dy[b, oh, ow, c] — one tap of a depthwise filter
 * gradient (multiplier 1). The caller clips the ranges so every x pixel is inside the image.
 * Locals: b 17, oh 18, ow 19, k 20, xp 21, dp 22.
 */
function tapCorrelate(): Fn {
  const [X, DY, ACC, N, H, W, CB, HO, WO, SH, SW, OFFH, OFFW, OH0, OH1, OW0, OW1] = Array.from({ length: 17 }, (_, i) => i);
  const [B, OH, OW, K, XP, DP] = [17, 18, 19, 20, 21, 22];
  const code = [
    ...i32(0), ...set(B),
    ...loop,
    ...get(OH0), ...set(OH),
    ...loop,
    ...get(OW0), ...set(OW),
    ...loop,
    // xp = x + ((b*h + oh*sh + offH) * w + ow*sw + offW) * cBytes
    ...get(X),
    ...get(B), ...get(H), ...mul, ...get(OH), ...get(SH), ...mul, ...add, ...get(OFFH), ...add,
    ...get(W), ...mul, ...get(OW), ...get(SW), ...mul, ...add, ...get(OFFW), ...add,
    ...get(CB), ...mul, ...add, ...set(XP),
    // dp = dy + ((b*ho + oh) * wo + ow) * cBytes
    ...get(DY),
    ...get(B), ...get(HO), ...mul, ...get(OH), ...add, ...get(WO), ...mul, ...get(OW), ...add,
    ...get(CB), ...mul, ...add, ...set(DP),
    ...i32(0), ...set(K),
    ...loop,
    ...get(ACC), ...get(K), ...add,
    ...get(ACC), ...get(K), ...add, ...load,
    ...get(XP), ...get(K), ...add, ...load,
    ...get(DP), ...get(K), ...add, ...load,
    ...f32x4Mul, ...f32x4Add,
    ...store,
    ...next(K, 16, CB),
    ...next(OW, 1, OW1),
    ...next(OH, 1, OH1),
    ...next(B, 1, N),
  ];
  return { name: 'tapCorrelate', locals: [[6, I32]], code };
}

const ifThen = [0x04, 0x40];

/**
 * winogradIn(xp, v, n, hp, wp, cBytes, th, tw, planeBytes): Winograd F(2x2,3x3) input transform.
 * xp is the zero-padded input [n, hp, wp, c] (hp >= 2*th + 2, wp >= 2*tw + 2, c % 4 == 0); tile
 * (ty, tx) is the 4x4 patch at (2ty, 2tx). Writes V = Bᵀ d B for every tile t = (b*th + ty)*tw + tx
 * as 16 planes [T, c]: element xi of tile t, channel k at v + xi*planeBytes + t*cBytes + k*4.
 * Bᵀ = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]].
 */
function winogradIn(): Fn {
  const [XP, V, N, HP, WP, CB, TH, TW, PB] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [B, TY, TX, K, ROWB, ROW, BASE, OUT, P, Q] = [9, 10, 11, 12, 13, 14, 15, 16, 17, 18];
  // i32 offset locals: OFF[r*4+c] = r*rowBytes + c*cBytes (19..34), PL[xi] = xi*planeBytes (35..50).
  const OFF = (r: number, c: number) => 19 + r * 4 + c;
  const PL = (xi: number) => 35 + xi;
  // v128 locals: d0..d3 (51..54), e[r][c] (55..70).
  const D = (r: number) => 51 + r;
  const E = (r: number, c: number) => 55 + r * 4 + c;
  const code: number[] = [
    ...get(WP), ...get(CB), ...mul, ...set(ROWB),
  ];
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 4; c++)
      code.push(...get(ROWB), ...i32(r), ...mul, ...get(CB), ...i32(c), ...mul, ...add, ...set(OFF(r, c)));
  for (let xi = 0; xi < 16; xi++) code.push(...get(PB), ...i32(xi), ...mul, ...set(PL(xi)));
  const loadD = (r: number, c: number) => [...get(P), ...get(OFF(r, c)), ...add, ...load, ...set(D(r))];
  const column: number[] = [];
  for (let c = 0; c < 4; c++) {
    for (let r = 0; r < 4; r++) column.push(...loadD(r, c));
    column.push(
      ...get(D(0)), ...get(D(2)), ...f32x4Sub, ...set(E(0, c)),
      ...get(D(1)), ...get(D(2)), ...f32x4Add, ...set(E(1, c)),
      ...get(D(2)), ...get(D(1)), ...f32x4Sub, ...set(E(2, c)),
      ...get(D(1)), ...get(D(3)), ...f32x4Sub, ...set(E(3, c)),
    );
  }
  const storeV = (xi: number, value: number[]) => [...get(Q), ...get(PL(xi)), ...add, ...value, ...store];
  const rows: number[] = [];
  for (let r = 0; r < 4; r++)
    rows.push(
      ...storeV(r * 4 + 0, [...get(E(r, 0)), ...get(E(r, 2)), ...f32x4Sub]),
      ...storeV(r * 4 + 1, [...get(E(r, 1)), ...get(E(r, 2)), ...f32x4Add]),
      ...storeV(r * 4 + 2, [...get(E(r, 2)), ...get(E(r, 1)), ...f32x4Sub]),
      ...storeV(r * 4 + 3, [...get(E(r, 1)), ...get(E(r, 3)), ...f32x4Sub]),
    );
  code.push(
    ...get(V), ...set(OUT),
    ...tileLoops(
      { b: B, ty: TY, tx: TX, k: K, n: N, th: TH, tw: TW, cBytes: CB, tileSlot: OUT },
      // row = xp + (b*hp + 2ty) * rowBytes
      [...get(XP), ...get(B), ...get(HP), ...mul, ...get(TY), ...i32(2), ...mul, ...add, ...get(ROWB), ...mul, ...add, ...set(ROW)],
      [...get(ROW), ...get(TX), ...i32(2), ...mul, ...get(CB), ...mul, ...add, ...set(BASE)],
      [...get(BASE), ...get(K), ...add, ...set(P), ...get(OUT), ...get(K), ...add, ...set(Q), ...column, ...rows],
    ),
  );
  return { name: 'winogradIn', locals: [[42, I32], [20, V128]], code };
}

/**
 * winogradOut(m0..m15, y, n, ho, wo, cBytes, th, tw, bias, lo): Winograd F(2x2,3x3) output
 * transform. Plane xi of the products is [T, c] at m_xi (tile t at t*cBytes); writes
 * max(Aᵀ m A + bias, lo), the 2x2 outputs of tile (b, ty, tx) at y[b, 2ty.., 2tx.., :]
 * ([n, ho, wo, c]), skipping those past ho/wo. Aᵀ = [[1,1,1,0],[0,1,-1,-1]]; bias points at c
 * floats (zeros for none), lo is -Infinity (linear) or 0 (a fused ReLU).
 */
function winogradOut(): Fn {
  const M = (xi: number) => xi;
  const [Y, N, HO, WO, CB, TH, TW, BIAS, LO] = [16, 17, 18, 19, 20, 21, 22, 23, 24];
  const [B, TY, TX, K, T, DST, RIGHT, DOWN, ROWB, Q] = [25, 26, 27, 28, 29, 30, 31, 32, 33, 34];
  const S = (r: number, c: number) => 35 + r * 4 + c; // v128 s[r][c], r < 2
  const Mv = (r: number) => 43 + r; // v128 m column values
  const [BV, LV] = [47, 48];
  const f32x4Max = simd(0xe9);
  const finish = [...get(BV), ...f32x4Add, ...get(LV), ...f32x4Max];
  const loadM = (xi: number) => [...get(M(xi)), ...get(Q), ...add, ...load];
  const column: number[] = [];
  for (let c = 0; c < 4; c++) {
    for (let r = 0; r < 4; r++) column.push(...loadM(r * 4 + c), ...set(Mv(r)));
    column.push(
      ...get(Mv(0)), ...get(Mv(1)), ...f32x4Add, ...get(Mv(2)), ...f32x4Add, ...set(S(0, c)),
      ...get(Mv(1)), ...get(Mv(2)), ...f32x4Sub, ...get(Mv(3)), ...f32x4Sub, ...set(S(1, c)),
    );
  }
  const y0 = (r: number) => [...get(S(r, 0)), ...get(S(r, 1)), ...f32x4Add, ...get(S(r, 2)), ...f32x4Add, ...finish];
  const y1 = (r: number) => [...get(S(r, 1)), ...get(S(r, 2)), ...f32x4Sub, ...get(S(r, 3)), ...f32x4Sub, ...finish];
  const at = (extra: number[]) => [...get(DST), ...get(K), ...add, ...extra];
  const code = [
    ...get(WO), ...get(CB), ...mul, ...set(ROWB),
    ...get(LO), ...f32x4Splat, ...set(LV),
    ...i32(0), ...set(T),
    ...tileLoops(
      { b: B, ty: TY, tx: TX, k: K, n: N, th: TH, tw: TW, cBytes: CB, tileSlot: T },
      // down = 2ty + 1 < ho
      [...get(TY), ...i32(2), ...mul, ...i32(1), ...add, ...get(HO), ...ltU, ...set(DOWN)],
      [
        ...get(TX), ...i32(2), ...mul, ...i32(1), ...add, ...get(WO), ...ltU, ...set(RIGHT),
        // dst = y + ((b*ho + 2ty) * wo + 2tx) * cBytes
        ...get(Y), ...get(B), ...get(HO), ...mul, ...get(TY), ...i32(2), ...mul, ...add, ...get(ROWB), ...mul, ...add,
        ...get(TX), ...i32(2), ...mul, ...get(CB), ...mul, ...add, ...set(DST),
      ],
      [
        ...get(T), ...get(K), ...add, ...set(Q),
        ...get(BIAS), ...get(K), ...add, ...load, ...set(BV),
        ...column,
        ...at([]), ...y0(0), ...store,
        ...get(RIGHT), ...ifThen, ...at([...get(CB), ...add]), ...y1(0), ...store, ...end,
        ...get(DOWN), ...ifThen,
        ...at([...get(ROWB), ...add]), ...y0(1), ...store,
        ...get(RIGHT), ...ifThen, ...at([...get(ROWB), ...add, ...get(CB), ...add]), ...y1(1), ...store, ...end,
        ...end,
      ],
    ),
  ];
  return { name: 'winogradOut', locals: [[10, I32], [14, V128]], code };
}

/**
 * winogradGrad(dy, d, n, ho, wo, cBytes, th, tw, planeBytes): the output-gradient transform of
 * Winograd F(2x2,3x3)'s filter gradient, D = A dY Aᵀ (A = [[1,0],[1,1],[1,-1],[0,-1]]) for every
 * 2x2 tile of dy [n, ho, wo, c] (ho = 2*th, wo = 2*tw: the caller pads odd sizes), written as 16
 * planes [T, c] like winogradIn's. Locals: b 9, ty 10, tx 11, k 12, src 13, out 14, rowB 15, p 16,
 * q 17, pl 18..33 (i32); g 34..37, e 38..45 (v128).
 */
function winogradGrad(): Fn {
  const [DY, D, N, HO, WO, CB, TH, TW, PB] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [B, TY, TX, K, SRC, OUT, ROWB, P, Q] = [9, 10, 11, 12, 13, 14, 15, 16, 17];
  const PL = (xi: number) => 18 + xi;
  const G = (i: number, j: number) => 34 + i * 2 + j;
  const E = (a: number, j: number) => 38 + a * 2 + j;
  const code: number[] = [...get(WO), ...get(CB), ...mul, ...set(ROWB)];
  for (let xi = 0; xi < 16; xi++) code.push(...get(PB), ...i32(xi), ...mul, ...set(PL(xi)));
  const body: number[] = [
    ...get(P), ...load, ...set(G(0, 0)),
    ...get(P), ...get(CB), ...add, ...load, ...set(G(0, 1)),
    ...get(P), ...get(ROWB), ...add, ...load, ...set(G(1, 0)),
    ...get(P), ...get(ROWB), ...add, ...get(CB), ...add, ...load, ...set(G(1, 1)),
  ];
  // e[a][j] = Σ_i A[a][i] g[i][j]: g0, g0+g1, g0-g1, -g1 (the last kept as g1, negated below).
  for (let j = 0; j < 2; j++)
    body.push(
      ...get(G(0, j)), ...set(E(0, j)),
      ...get(G(0, j)), ...get(G(1, j)), ...f32x4Add, ...set(E(1, j)),
      ...get(G(0, j)), ...get(G(1, j)), ...f32x4Sub, ...set(E(2, j)),
      ...get(G(1, j)), ...set(E(3, j)),
    );
  const storeD = (xi: number, value: number[]) => [...get(Q), ...get(PL(xi)), ...add, ...value, ...store];
  const zero = [...f32Const(0), ...f32x4Splat];
  for (let a = 0; a < 4; a++) {
    // Row 3 of A is [0,-1]: e[3][j] holds +g1, so its sign flips in every D[3][b].
    const sign = a === 3;
    const e0 = get(E(a, 0));
    const e1 = get(E(a, 1));
    body.push(
      ...storeD(a * 4 + 0, sign ? [...zero, ...e0, ...f32x4Sub] : e0),
      ...storeD(a * 4 + 1, sign ? [...zero, ...e0, ...f32x4Sub, ...e1, ...f32x4Sub] : [...e0, ...e1, ...f32x4Add]),
      ...storeD(a * 4 + 2, sign ? [...e1, ...e0, ...f32x4Sub] : [...e0, ...e1, ...f32x4Sub]),
      ...storeD(a * 4 + 3, sign ? e1 : [...zero, ...e1, ...f32x4Sub]),
    );
  }
  code.push(
    ...get(D), ...set(OUT),
    ...tileLoops(
      { b: B, ty: TY, tx: TX, k: K, n: N, th: TH, tw: TW, cBytes: CB, tileSlot: OUT },
      [],
      // src = dy + ((b*ho + 2ty)*wo + 2tx) * cBytes
      [
        ...get(DY), ...get(B), ...get(HO), ...mul, ...get(TY), ...i32(2), ...mul, ...add, ...get(ROWB), ...mul, ...add,
        ...get(TX), ...i32(2), ...mul, ...get(CB), ...mul, ...add, ...set(SRC),
      ],
      [...get(SRC), ...get(K), ...add, ...set(P), ...get(OUT), ...get(K), ...add, ...set(Q), ...body],
    ),
  );
  return { name: 'winogradGrad', locals: [[25, I32], [12, V128]], code };
}

/**
 * reluGrad(x, dy, out, bytes): out = x > 0 ? dy : 0 over float32 arrays (bytes % 16 == 0, > 0):
 * ReLU's gradient in one pass instead of Step, Cast and Multiply.
 */
function reluGrad(): Fn {
  const [X, DY, OUT, BYTES, I] = [0, 1, 2, 3, 4];
  const f32x4Gt = simd(0x44);
  const zero = [...f32Const(0), ...f32x4Splat];
  const code = [
    ...i32(0), ...set(I),
    ...loop,
    ...get(OUT), ...get(I), ...add,
    ...get(DY), ...get(I), ...add, ...load,
    ...get(X), ...get(I), ...add, ...load, ...zero, ...f32x4Gt,
    ...vAnd,
    ...store,
    ...next(I, 16, BYTES),
  ];
  return { name: 'reluGrad', locals: [[1, I32]], code };
}

/**
 * tapsOuter(xp, dy, acc, n, ho, wo, tapRowBytes, ci, coBytes, fh, fw, rowSkip, step, rowAdvance,
 * tapColBytes): the whole filter gradient of a conv with few input channels, in one pass over dy:
 * for every output pixel, tap (i, j) and input channel c,
 * acc[i, j, c, :] += xp[b, oh*sh + i*dh, ow*sw + j*dw, c] * dy[b, oh, ow, :]. xp is the input
 * zero-padded so every tap is inside ([n, hp, wp, ci], hp = (ho-1)*sh + (fh-1)*dh + 1, likewise
 * wp); byte steps: tapRowBytes = dh*wp*ci*4 and tapColBytes = dw*ci*4 between taps, step =
 * sw*ci*4 per output pixel, rowAdvance = (sh*wp - wo*sw)*ci*4 after each output row, rowSkip =
 * (hp - ho*sh)*wp*ci*4 after each image. The accumulator (fh*fw*ci*co floats) stays in L1 while
 * dy streams through once.
 */
function tapsOuter(): Fn {
  const [XP, DY, ACC, N, HO, WO, TAPROW, CI, COB, FH, FW, ROWSKIP, STEP, ROWADV, TAPCOL] = Array.from({ length: 15 }, (_, i) => i);
  const [B, OH, OW, I, J, C, K, XROW, XQ, DP, A, S] = [15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26];
  const code = [
    ...get(XP), ...set(XROW), // top-left of the current output pixel's window
    ...get(DY), ...set(DP),
    ...pixelLoops({ b: B, oh: OH, ow: OW, n: N, ho: HO, wo: WO, dp: DP, coBytes: COB, xrow: XROW, step: STEP, rowAdvance: ROWADV, rowSkip: ROWSKIP }, [
      ...get(ACC), ...set(A),
      ...i32(0), ...set(I),
      ...loop,
      ...i32(0), ...set(J),
      ...loop,
      // xq = xrow + i*tapRowBytes + j*tapColBytes
      ...get(XROW), ...get(I), ...get(TAPROW), ...mul, ...add, ...get(J), ...get(TAPCOL), ...mul, ...add, ...set(XQ),
      ...i32(0), ...set(C),
      ...loop,
      ...get(XQ), ...get(C), ...i32(4), ...mul, ...add, ...f32Load, ...f32x4Splat, ...set(S),
      ...i32(0), ...set(K),
      ...loop,
      ...get(A), ...get(K), ...add,
      ...get(A), ...get(K), ...add, ...load,
      ...get(S),
      ...get(DP), ...get(K), ...add, ...load,
      ...f32x4Mul, ...f32x4Add,
      ...store,
      ...next(K, 16, COB),
      ...get(A), ...get(COB), ...add, ...set(A),
      ...next(C, 1, CI),
      ...next(J, 1, FW),
      ...next(I, 1, FH),
    ]),
  ];
  return { name: 'tapsOuter', locals: [[11, I32], [1, V128]], code };
}

/**
 * taps3x3(xp, dy, acc, n, ho, wo, wp, ci, coBytes, c, rowSkip, step, rowAdvance): like tapsOuter
 * for a 3x3 filter and one input channel c, with the nine taps' sums for one 4-channel slice of
 * dy held in registers across the whole pass (per pixel: one dy load and nine
 * splat-multiply-adds, no accumulator traffic); one pass per slice. Writes acc[t, c, slice]
 * (acc is [3, 3, ci, co]).
 */
function taps3x3(): Fn {
  const [XP, DY, ACC, N, HO, WO, WP, CI, COB, CH, ROWSKIP, STEP, ROWADV] = Array.from({ length: 13 }, (_, i) => i);
  const [K, B, OH, OW, XROW, DP, WPB, PIX] = [13, 14, 15, 16, 17, 18, 19, 20];
  const OFF = (t: number) => 21 + t;
  const G = 30;
  const A = (t: number) => 31 + t;
  const zero = [...f32Const(0), ...f32x4Splat];
  const code: number[] = [
    ...get(CI), ...i32(4), ...mul, ...set(PIX),
    ...get(WP), ...get(PIX), ...mul, ...set(WPB),
  ];
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) code.push(...get(WPB), ...i32(i), ...mul, ...get(PIX), ...i32(j), ...mul, ...add, ...set(OFF(i * 3 + j)));
  const perPixel: number[] = [...get(DP), ...load, ...set(G)];
  for (let t = 0; t < 9; t++)
    perPixel.push(...get(A(t)), ...get(XROW), ...get(OFF(t)), ...add, ...f32Load, ...f32x4Splat, ...get(G), ...f32x4Mul, ...f32x4Add, ...set(A(t)));
  const stores: number[] = [];
  for (let t = 0; t < 9; t++)
    // acc + ((t*ci + c) * coBytes) + k
    stores.push(...get(ACC), ...i32(t), ...get(CI), ...mul, ...get(CH), ...add, ...get(COB), ...mul, ...add, ...get(K), ...add, ...get(A(t)), ...store);
  const init: number[] = [];
  for (let t = 0; t < 9; t++) init.push(...zero, ...set(A(t)));
  code.push(
    ...i32(0), ...set(K),
    ...loop,
    ...init,
    ...get(XP), ...get(CH), ...i32(4), ...mul, ...add, ...set(XROW),
    ...get(DY), ...get(K), ...add, ...set(DP),
    ...pixelLoops({ b: B, oh: OH, ow: OW, n: N, ho: HO, wo: WO, dp: DP, coBytes: COB, xrow: XROW, step: STEP, rowAdvance: ROWADV, rowSkip: ROWSKIP }, perPixel),
    ...stores,
    ...next(K, 16, COB),
  );
  return { name: 'taps3x3', locals: [[17, I32], [10, V128]], code };
}

/**
 * gemm4x8(a, b, c, m4, n8, k, lda, ldb, ldc, accumulate): C[i, j] (+)= Σ_p A[i, p] B[p, j] for
 * i < m4, j < n8 (multiples of 4 and 8), all float32 row-major with leading dimensions lda, ldb,
 * ldc (elements); accumulate != 0 adds to C instead of overwriting it.
 * Register tile 4x8: eight accumulators; per p one row slice of B (two vectors, read in place:
 * no packing) and four splatted A values. k >= 1. Locals: i 9, j 10, p 11, ap 12, bp 13, cp 14,
 * ldaB 15, ldbB 16, ldcB 17; v128 acc 18..25, b0 26, b1 27, av 28.
 */
function gemm4x8(): Fn {
  const [A, Bm, C, M4, N8, K, LDA, LDB, LDC, ACCUM] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [I, J, P, AP, BP, CP, LDAB, LDBB, LDCB] = [10, 11, 12, 13, 14, 15, 16, 17, 18];
  const ACC = (r: number, h: number) => 19 + r * 2 + h;
  const [B0, B1, AV] = [27, 28, 29];
  const zero = [...f32Const(0), ...f32x4Splat];
  const init: number[] = [];
  for (let r = 0; r < 4; r++) for (let h = 0; h < 2; h++) init.push(...zero, ...set(ACC(r, h)));
  const reload: number[] = [];
  for (let r = 0; r < 4; r++) {
    const row = [...get(CP), ...(r === 0 ? [] : [...get(LDCB), ...i32(r), ...mul, ...add])];
    reload.push(...row, ...load, ...set(ACC(r, 0)), ...row, ...i32(16), ...add, ...load, ...set(ACC(r, 1)));
  }
  const inner: number[] = [
    ...get(BP), ...load, ...set(B0),
    ...get(BP), ...i32(16), ...add, ...load, ...set(B1),
  ];
  for (let r = 0; r < 4; r++) {
    // av = splat(A[i + r, p]) at ap + r*ldaB
    inner.push(...get(AP), ...(r === 0 ? [] : [...get(LDAB), ...i32(r), ...mul, ...add]), ...f32Load, ...f32x4Splat, ...set(AV));
    inner.push(...get(ACC(r, 0)), ...get(AV), ...get(B0), ...f32x4Mul, ...f32x4Add, ...set(ACC(r, 0)));
    inner.push(...get(ACC(r, 1)), ...get(AV), ...get(B1), ...f32x4Mul, ...f32x4Add, ...set(ACC(r, 1)));
  }
  inner.push(
    ...get(AP), ...i32(4), ...add, ...set(AP),
    ...get(BP), ...get(LDBB), ...add, ...set(BP),
  );
  const stores: number[] = [];
  for (let r = 0; r < 4; r++) {
    const row = [...get(CP), ...(r === 0 ? [] : [...get(LDCB), ...i32(r), ...mul, ...add])];
    stores.push(...row, ...get(ACC(r, 0)), ...store);
    stores.push(...row, ...i32(16), ...add, ...get(ACC(r, 1)), ...store);
  }
  const code = [
    ...get(LDA), ...i32(4), ...mul, ...set(LDAB),
    ...get(LDB), ...i32(4), ...mul, ...set(LDBB),
    ...get(LDC), ...i32(4), ...mul, ...set(LDCB),
    ...i32(0), ...set(I),
    ...loop,
    ...i32(0), ...set(J),
    ...loop,
    ...init,
    // ap = a + i*ldaB; bp = b + j*4; cp = c + i*ldcB + j*4
    ...get(A), ...get(I), ...get(LDAB), ...mul, ...add, ...set(AP),
    ...get(Bm), ...get(J), ...i32(4), ...mul, ...add, ...set(BP),
    ...get(C), ...get(I), ...get(LDCB), ...mul, ...add, ...get(J), ...i32(4), ...mul, ...add, ...set(CP),
    ...get(ACCUM), ...ifThen, ...reload, ...end,
    ...i32(0), ...set(P),
    ...loop,
    ...inner,
    ...next(P, 1, K),
    ...stores,
    ...next(J, 8, N8),
    ...next(I, 4, M4),
  ];
  return { name: 'gemm4x8', locals: [[9, I32], [11, V128]], code };
}

const shuffle = (lanes: number[]) => [...simd(0x0d), ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])];

/**
 * transpose4(src, dst, rows, cols, rows4, cols4, dstRowBytes): dst[j, i] = src[i, j] for the 4x4
 * blocks with i < rows4, j < cols4 (multiples of 4) of a float32 [rows, cols] matrix, destination
 * rows dstRowBytes apart (rows*4 for a plain transpose; more to write into a wider matrix); four
 * loads, eight shuffles, four stores per block. The caller copies the ragged edge.
 */
function transpose4(): Fn {
  const [SRC, DST, , COLS, ROWS4, COLS4, CB] = [0, 1, 2, 3, 4, 5, 6];
  const [I, J, RB, SP, DP] = [7, 8, 9, 10, 11];
  const A = (k: number) => 12 + k;
  const T = (k: number) => 16 + k;
  const code = [
    ...get(COLS), ...i32(4), ...mul, ...set(RB), // bytes per source row
    ...i32(0), ...set(I),
    ...loop,
    ...i32(0), ...set(J),
    ...loop,
    // sp = src + (i*cols + j)*4; dp = dst + (j*rows + i)*4
    ...get(SRC), ...get(I), ...get(RB), ...mul, ...add, ...get(J), ...i32(4), ...mul, ...add, ...set(SP),
    ...get(DST), ...get(J), ...get(CB), ...mul, ...add, ...get(I), ...i32(4), ...mul, ...add, ...set(DP),
    ...get(SP), ...load, ...set(A(0)),
    ...get(SP), ...get(RB), ...add, ...load, ...set(A(1)),
    ...get(SP), ...get(RB), ...i32(2), ...mul, ...add, ...load, ...set(A(2)),
    ...get(SP), ...get(RB), ...i32(3), ...mul, ...add, ...load, ...set(A(3)),
    ...get(A(0)), ...get(A(1)), ...shuffle([0, 4, 1, 5]), ...set(T(0)),
    ...get(A(0)), ...get(A(1)), ...shuffle([2, 6, 3, 7]), ...set(T(1)),
    ...get(A(2)), ...get(A(3)), ...shuffle([0, 4, 1, 5]), ...set(T(2)),
    ...get(A(2)), ...get(A(3)), ...shuffle([2, 6, 3, 7]), ...set(T(3)),
    ...get(DP), ...get(T(0)), ...get(T(2)), ...shuffle([0, 1, 4, 5]), ...store,
    ...get(DP), ...get(CB), ...add, ...get(T(0)), ...get(T(2)), ...shuffle([2, 3, 6, 7]), ...store,
    ...get(DP), ...get(CB), ...i32(2), ...mul, ...add, ...get(T(1)), ...get(T(3)), ...shuffle([0, 1, 4, 5]), ...store,
    ...get(DP), ...get(CB), ...i32(3), ...mul, ...add, ...get(T(1)), ...get(T(3)), ...shuffle([2, 3, 6, 7]), ...store,
    ...next(J, 4, COLS4),
    ...next(I, 4, ROWS4),
  ];
  return { name: 'transpose4', locals: [[5, I32], [8, V128]], code };
}

function assemble(fns: Fn[], paramTypes: number[][]): Uint8Array<ArrayBuffer> {
  const types = fns.map((_, i) => [0x60, ...vec(paramTypes[i].map((t) => [t])), 0x00]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, 0x01]])),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...section(7, vec(fns.map((f, i) => [...str(f.name), 0x00, ...uleb(i)]))),
    ...section(
      10,
      vec(
        fns.map((f) => {
          const body = [...vec(f.locals.map(([n, t]) => [...uleb(n), t])), ...f.code, ...end];
          return [...uleb(body.length), ...body];
        }),
      ),
    ),
  ];
  return new Uint8Array(bytes);
}

export interface SimdKernels {
  maxPoolGrad2x2(x: number, y: number, dy: number, dx: number, rows: number, wo: number, cBytes: number): void;
  tapCorrelate(
    x: number, dy: number, acc: number, n: number, h: number, w: number, cBytes: number, ho: number, wo: number,
    sh: number, sw: number, offH: number, offW: number, oh0: number, oh1: number, ow0: number, ow1: number,
  ): void;
  adam(x: number, g: number, m: number, v: number, out: number, bytes: number, lr: number, b1: number, b2: number, eps: number, k1: number, k2: number): void;
  winogradIn(xp: number, v: number, n: number, hp: number, wp: number, cBytes: number, th: number, tw: number, planeBytes: number): void;
  winogradOut(...args: number[]): void;
  transpose4(src: number, dst: number, rows: number, cols: number, rows4: number, cols4: number, dstRowBytes: number): void;
  reluGrad(x: number, dy: number, out: number, bytes: number): void;
  gemm4x8(a: number, b: number, c: number, m4: number, n8: number, k: number, lda: number, ldb: number, ldc: number, accumulate: number): void;
  taps3x3(xp: number, dy: number, acc: number, n: number, ho: number, wo: number, wp: number, ci: number, coBytes: number, c: number, rowSkip: number, step: number, rowAdvance: number): void;
  tapsOuter(
    xp: number, dy: number, acc: number, n: number, ho: number, wo: number, tapRowBytes: number, ci: number, coBytes: number,
    fh: number, fw: number, rowSkip: number, step: number, rowAdvance: number, tapColBytes: number,
  ): void;
  winogradGrad(dy: number, d: number, n: number, ho: number, wo: number, cBytes: number, th: number, tw: number, planeBytes: number): void;
}

const cache = new WeakMap<object, SimdKernels | null>();

/** The SIMD loops bound to this backend's heap, or undefined where SIMD is unavailable. */
export function simdKernels(backend: BackendWasm): SimdKernels | undefined {
  const memory = (backend.wasm as unknown as { asm?: { memory?: WebAssembly.Memory } }).asm?.memory;
  if (!memory) return undefined;
  let kernels = cache.get(memory);
  if (kernels === undefined) {
    try {
      const binary = assemble(
        [maxPoolGrad2x2(), adam(), tapCorrelate(), winogradIn(), winogradOut(), transpose4(), winogradGrad(), reluGrad(), tapsOuter(), taps3x3(), gemm4x8()],
        [Array(7).fill(I32), [...Array(6).fill(I32), ...Array(6).fill(F32)], Array(17).fill(I32), Array(9).fill(I32), [...Array(24).fill(I32), F32], Array(7).fill(I32), Array(9).fill(I32), Array(4).fill(I32), Array(15).fill(I32), Array(13).fill(I32), Array(10).fill(I32)],
      );
      const instance = new WebAssembly.Instance(new WebAssembly.Module(binary), { env: { memory } });
      kernels = instance.exports as unknown as SimdKernels;
    } catch {
      kernels = null;
    }
    cache.set(memory, kernels);
  }
  return kernels ?? undefined;
}

/** Output-pixel range [first, end) whose tap offset `off` lands inside an input of `size`. */
export function tapRange(off: number, stride: number, size: number, outSize: number): [number, number] {
  return [Math.max(0, Math.ceil(-off / stride)), Math.min(outSize, Math.floor((size - 1 - off) / stride) + 1)];
}

export { heapAddress } from './kernel-utils.ts';
