;; The tridiagonal reduction's per-column kernels (tridiagonal.ts) as WebAssembly SIMD: the matrix–vector product,
;; reading only the lower triangle of the symmetric trailing block (y = A[f:, f:] · v[f:] for the s × s row-major
;; A), and the panel's corrections (updatedColumn, panelDots, panelCorrections: the loops of the same names there).
;;
;; Why: this product streams the trailing block from memory once per column, half of the reduction's flops. A
;; general product (onnxruntime's Gemm, as before) reads the whole block; by symmetry each off-diagonal value can
;; serve twice — A[r][c]·v[c] into y[r] and A[r][c]·v[r] into y[c] — so half the block is read. It also saves the
;; onnxruntime call per column (~15 µs of fixed cost and an event-loop turn each, 512 per d = 768 reduction).
;;
;; Assembled by scripts/build-wasm.mjs into reductionKernelsWasm.ts (base64); a unit test checks the two agree.
;; Offsets are bytes; `matrix` holds s × s f64, `v` s f64 (only v[f:] is read), `y` s − f f64 (written); the panels
;; V and W are s × width f64, row-major. The panel kernels sum over the panel's columns two at a time (f64x2
;; lanes), so their sums round a little differently from the one-at-a-time JavaScript loops.
(module
  (memory (export "memory") 1)

  ;; Rows two at a time (an even one and the next): their dot products are two independent chains (one chain ran at
  ;; the add's latency), and y[c] takes both rows' terms in one load and store, the even row's first. Every sum adds
  ;; in the order of the one-row loop (row by row for y, column pairs then the lane sum for a dot), so the doubles are
  ;; those of that loop, which still serves the last row when the count is odd.
  (func (export "lowerSymmetricProduct") (param $matrix i32) (param $s i32) (param $f i32) (param $v i32) (param $y i32)
    (local $n i32) (local $i i32) (local $c i32) (local $pairs i32) (local $row i32) (local $vf i32)
    (local $vi f64) (local $splat v128) (local $acc v128) (local $a v128) (local $dot f64) (local $yc i32) (local $value f64)
    (local $row1 i32) (local $vi1 f64) (local $splat1 v128) (local $acc1 v128) (local $a1 v128) (local $vc v128) (local $dot1 f64)
    (local $rowBytes i32)
    (local.set $n (i32.sub (local.get $s) (local.get $f)))
    (local.set $vf (i32.add (local.get $v) (i32.shl (local.get $f) (i32.const 3))))
    (local.set $rowBytes (i32.shl (local.get $s) (i32.const 3)))
    ;; y = 0
    (local.set $i (i32.const 0))
    (block $zeroed
      (loop $zero
        (br_if $zeroed (i32.ge_u (local.get $i) (local.get $n)))
        (f64.store (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 3))) (f64.const 0))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $zero)))
    (local.set $i (i32.const 0))
    ;; Rows i (even) and i + 1.
    (block $twoDone
      (loop $two
        (br_if $twoDone (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $n)))
        (local.set $row (i32.add (local.get $matrix)
          (i32.shl (i32.add (i32.mul (i32.add (local.get $f) (local.get $i)) (local.get $s)) (local.get $f)) (i32.const 3))))
        (local.set $row1 (i32.add (local.get $row) (local.get $rowBytes)))
        (local.set $vi (f64.load (i32.add (local.get $vf) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $vi1 (f64.load offset=8 (i32.add (local.get $vf) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $splat (f64x2.splat (local.get $vi)))
        (local.set $splat1 (f64x2.splat (local.get $vi1)))
        (local.set $acc (v128.const f64x2 0 0))
        (local.set $acc1 (v128.const f64x2 0 0))
        (local.set $c (i32.const 0))
        ;; Columns c < i (i is even: both rows' pairs end there).
        (block $pairsDone
          (loop $pairLoop
            (br_if $pairsDone (i32.ge_u (local.get $c) (local.get $i)))
            (local.set $a (v128.load (i32.add (local.get $row) (i32.shl (local.get $c) (i32.const 3)))))
            (local.set $a1 (v128.load (i32.add (local.get $row1) (i32.shl (local.get $c) (i32.const 3)))))
            (local.set $vc (v128.load (i32.add (local.get $vf) (i32.shl (local.get $c) (i32.const 3)))))
            (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (local.get $a) (local.get $vc))))
            (local.set $acc1 (f64x2.add (local.get $acc1) (f64x2.mul (local.get $a1) (local.get $vc))))
            (local.set $yc (i32.add (local.get $y) (i32.shl (local.get $c) (i32.const 3))))
            (v128.store (local.get $yc) (f64x2.add (f64x2.add (v128.load (local.get $yc)) (f64x2.mul (local.get $a) (local.get $splat)))
              (f64x2.mul (local.get $a1) (local.get $splat1))))
            (local.set $c (i32.add (local.get $c) (i32.const 2)))
            (br $pairLoop)))
        ;; Row i: no odd column; its diagonal.
        (local.set $dot (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
        (local.set $dot (f64.add (local.get $dot)
          (f64.mul (f64.load (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 3)))) (local.get $vi))))
        (local.set $yc (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 3))))
        (f64.store (local.get $yc) (f64.add (f64.load (local.get $yc)) (local.get $dot)))
        ;; Row i + 1: its odd last column below the diagonal (column i), then its diagonal.
        (local.set $dot1 (f64.add (f64x2.extract_lane 0 (local.get $acc1)) (f64x2.extract_lane 1 (local.get $acc1))))
        (local.set $value (f64.load (i32.add (local.get $row1) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $dot1 (f64.add (local.get $dot1) (f64.mul (local.get $value) (local.get $vi))))
        (f64.store (local.get $yc) (f64.add (f64.load (local.get $yc)) (f64.mul (local.get $value) (local.get $vi1))))
        (local.set $dot1 (f64.add (local.get $dot1)
          (f64.mul (f64.load offset=8 (i32.add (local.get $row1) (i32.shl (local.get $i) (i32.const 3)))) (local.get $vi1))))
        (f64.store offset=8 (local.get $yc) (f64.add (f64.load offset=8 (local.get $yc)) (local.get $dot1)))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $two)))
    ;; The last row when the count is odd, as the one-row loop.
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $n)))
        ;; Row f + i of A, from column f.
        (local.set $row (i32.add (local.get $matrix)
          (i32.shl (i32.add (i32.mul (i32.add (local.get $f) (local.get $i)) (local.get $s)) (local.get $f)) (i32.const 3))))
        (local.set $vi (f64.load (i32.add (local.get $vf) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $splat (f64x2.splat (local.get $vi)))
        (local.set $acc (v128.const f64x2 0 0))
        (local.set $pairs (i32.and (local.get $i) (i32.const -2)))
        (local.set $c (i32.const 0))
        ;; Columns c < i, two at a time: y[i] gathers A[i][c]·v[c], y[c] receives A[i][c]·v[i].
        (block $pairsDone
          (loop $pairLoop
            (br_if $pairsDone (i32.ge_u (local.get $c) (local.get $pairs)))
            (local.set $a (v128.load (i32.add (local.get $row) (i32.shl (local.get $c) (i32.const 3)))))
            (local.set $acc (f64x2.add (local.get $acc)
              (f64x2.mul (local.get $a) (v128.load (i32.add (local.get $vf) (i32.shl (local.get $c) (i32.const 3)))))))
            (local.set $yc (i32.add (local.get $y) (i32.shl (local.get $c) (i32.const 3))))
            (v128.store (local.get $yc) (f64x2.add (v128.load (local.get $yc)) (f64x2.mul (local.get $a) (local.get $splat))))
            (local.set $c (i32.add (local.get $c) (i32.const 2)))
            (br $pairLoop)))
        (local.set $dot (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
        ;; An odd last column below the diagonal.
        (if (i32.lt_u (local.get $c) (local.get $i))
          (then
            (local.set $value (f64.load (i32.add (local.get $row) (i32.shl (local.get $c) (i32.const 3)))))
            (local.set $dot (f64.add (local.get $dot)
              (f64.mul (local.get $value) (f64.load (i32.add (local.get $vf) (i32.shl (local.get $c) (i32.const 3)))))))
            (local.set $yc (i32.add (local.get $y) (i32.shl (local.get $c) (i32.const 3))))
            (f64.store (local.get $yc) (f64.add (f64.load (local.get $yc)) (f64.mul (local.get $value) (local.get $vi))))))
        ;; The diagonal.
        (local.set $dot (f64.add (local.get $dot)
          (f64.mul (f64.load (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 3)))) (local.get $vi))))
        (local.set $yc (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 3))))
        (f64.store (local.get $yc) (f64.add (f64.load (local.get $yc)) (local.get $dot)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))
  ;; column[r] = A[j + r][j] − Σ_{p<j} (V[j+r][p]·W[j][p] + W[j+r][p]·V[j][p]) for r < s − j (A: s × s).
  (func (export "updatedColumn") (param $matrix i32) (param $s i32) (param $j i32) (param $vPanel i32) (param $wPanel i32)
    (param $width i32) (param $column i32)
    (local $r i32) (local $n i32) (local $p i32) (local $pairs i32) (local $rowV i32) (local $rowW i32) (local $jV i32) (local $jW i32)
    (local $acc v128) (local $sum f64) (local $rowStride i32) (local $row i32)
    (local.set $n (i32.sub (local.get $s) (local.get $j)))
    (local.set $pairs (i32.and (local.get $j) (i32.const -2)))
    (local.set $rowStride (i32.shl (local.get $width) (i32.const 3)))
    (local.set $jV (i32.add (local.get $vPanel) (i32.mul (local.get $j) (local.get $rowStride))))
    (local.set $jW (i32.add (local.get $wPanel) (i32.mul (local.get $j) (local.get $rowStride))))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $n)))
        (local.set $row (i32.add (local.get $j) (local.get $r)))
        (local.set $rowV (i32.add (local.get $vPanel) (i32.mul (local.get $row) (local.get $rowStride))))
        (local.set $rowW (i32.add (local.get $wPanel) (i32.mul (local.get $row) (local.get $rowStride))))
        (local.set $acc (v128.const f64x2 0 0))
        (local.set $p (i32.const 0))
        (block $pairsDone
          (loop $pairLoop
            (br_if $pairsDone (i32.ge_u (local.get $p) (local.get $pairs)))
            (local.set $acc (f64x2.add (local.get $acc) (f64x2.add
              (f64x2.mul (v128.load (i32.add (local.get $rowV) (i32.shl (local.get $p) (i32.const 3)))) (v128.load (i32.add (local.get $jW) (i32.shl (local.get $p) (i32.const 3)))))
              (f64x2.mul (v128.load (i32.add (local.get $rowW) (i32.shl (local.get $p) (i32.const 3)))) (v128.load (i32.add (local.get $jV) (i32.shl (local.get $p) (i32.const 3))))))))
            (local.set $p (i32.add (local.get $p) (i32.const 2)))
            (br $pairLoop)))
        (local.set $sum (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
        (if (i32.lt_u (local.get $p) (local.get $j))
          (then (local.set $sum (f64.add (local.get $sum) (f64.add
            (f64.mul (f64.load (i32.add (local.get $rowV) (i32.shl (local.get $p) (i32.const 3)))) (f64.load (i32.add (local.get $jW) (i32.shl (local.get $p) (i32.const 3)))))
            (f64.mul (f64.load (i32.add (local.get $rowW) (i32.shl (local.get $p) (i32.const 3)))) (f64.load (i32.add (local.get $jV) (i32.shl (local.get $p) (i32.const 3))))))))))
        (f64.store (i32.add (local.get $column) (i32.shl (local.get $r) (i32.const 3)))
          (f64.sub (f64.load (i32.add (local.get $matrix) (i32.shl (i32.add (i32.mul (local.get $row) (local.get $s)) (local.get $j)) (i32.const 3))))
            (local.get $sum)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; wtv[p] = Σ_r W[j+1+r][p]·v[r], vtv[p] = Σ_r V[j+1+r][p]·v[r] for p < j, r < rows (sums over r in order).
  (func (export "panelDots") (param $v i32) (param $vPanel i32) (param $wPanel i32) (param $width i32) (param $j i32) (param $rows i32)
    (param $wtv i32) (param $vtv i32)
    (local $p i32) (local $r i32) (local $pairs i32) (local $rowStride i32) (local $offset i32) (local $vr v128)
    (local $accW v128) (local $accV v128) (local $sumW f64) (local $sumV f64) (local $value f64)
    (local.set $pairs (i32.and (local.get $j) (i32.const -2)))
    (local.set $rowStride (i32.shl (local.get $width) (i32.const 3)))
    (block $pairsDone
      (loop $pairLoop
        (br_if $pairsDone (i32.ge_u (local.get $p) (local.get $pairs)))
        (local.set $accW (v128.const f64x2 0 0))
        (local.set $accV (v128.const f64x2 0 0))
        (local.set $offset (i32.add (i32.mul (i32.add (local.get $j) (i32.const 1)) (local.get $rowStride)) (i32.shl (local.get $p) (i32.const 3))))
        (local.set $r (i32.const 0))
        (block $rowsDone
          (loop $rowLoop
            (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $vr (f64x2.splat (f64.load (i32.add (local.get $v) (i32.shl (local.get $r) (i32.const 3))))))
            (local.set $accW (f64x2.add (local.get $accW) (f64x2.mul (v128.load (i32.add (local.get $wPanel) (local.get $offset))) (local.get $vr))))
            (local.set $accV (f64x2.add (local.get $accV) (f64x2.mul (v128.load (i32.add (local.get $vPanel) (local.get $offset))) (local.get $vr))))
            (local.set $offset (i32.add (local.get $offset) (local.get $rowStride)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rowLoop)))
        (v128.store (i32.add (local.get $wtv) (i32.shl (local.get $p) (i32.const 3))) (local.get $accW))
        (v128.store (i32.add (local.get $vtv) (i32.shl (local.get $p) (i32.const 3))) (local.get $accV))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (br $pairLoop)))
    (if (i32.lt_u (local.get $p) (local.get $j))
      (then
        (local.set $offset (i32.add (i32.mul (i32.add (local.get $j) (i32.const 1)) (local.get $rowStride)) (i32.shl (local.get $p) (i32.const 3))))
        (local.set $r (i32.const 0))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $value (f64.load (i32.add (local.get $v) (i32.shl (local.get $r) (i32.const 3)))))
            (local.set $sumW (f64.add (local.get $sumW) (f64.mul (f64.load (i32.add (local.get $wPanel) (local.get $offset))) (local.get $value))))
            (local.set $sumV (f64.add (local.get $sumV) (f64.mul (f64.load (i32.add (local.get $vPanel) (local.get $offset))) (local.get $value))))
            (local.set $offset (i32.add (local.get $offset) (local.get $rowStride)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $tail)))
        (f64.store (i32.add (local.get $wtv) (i32.shl (local.get $p) (i32.const 3))) (local.get $sumW))
        (f64.store (i32.add (local.get $vtv) (i32.shl (local.get $p) (i32.const 3))) (local.get $sumV)))))

  ;; y[r] −= Σ_{q<j} (V[j+1+r][q]·wtv[q] + W[j+1+r][q]·vtv[q]) for r < rows.
  (func (export "panelCorrections") (param $y i32) (param $vPanel i32) (param $wPanel i32) (param $width i32) (param $j i32) (param $rows i32)
    (param $wtv i32) (param $vtv i32)
    (local $r i32) (local $q i32) (local $pairs i32) (local $rowStride i32) (local $rowV i32) (local $rowW i32) (local $acc v128) (local $sum f64)
    (local $target i32)
    (local.set $pairs (i32.and (local.get $j) (i32.const -2)))
    (local.set $rowStride (i32.shl (local.get $width) (i32.const 3)))
    (block $done
      (loop $rowLoop
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $rowV (i32.add (local.get $vPanel) (i32.mul (i32.add (i32.add (local.get $j) (i32.const 1)) (local.get $r)) (local.get $rowStride))))
        (local.set $rowW (i32.add (local.get $wPanel) (i32.mul (i32.add (i32.add (local.get $j) (i32.const 1)) (local.get $r)) (local.get $rowStride))))
        (local.set $acc (v128.const f64x2 0 0))
        (local.set $q (i32.const 0))
        (block $pairsDone
          (loop $pairLoop
            (br_if $pairsDone (i32.ge_u (local.get $q) (local.get $pairs)))
            (local.set $acc (f64x2.add (local.get $acc) (f64x2.add
              (f64x2.mul (v128.load (i32.add (local.get $rowV) (i32.shl (local.get $q) (i32.const 3)))) (v128.load (i32.add (local.get $wtv) (i32.shl (local.get $q) (i32.const 3)))))
              (f64x2.mul (v128.load (i32.add (local.get $rowW) (i32.shl (local.get $q) (i32.const 3)))) (v128.load (i32.add (local.get $vtv) (i32.shl (local.get $q) (i32.const 3))))))))
            (local.set $q (i32.add (local.get $q) (i32.const 2)))
            (br $pairLoop)))
        (local.set $sum (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
        (if (i32.lt_u (local.get $q) (local.get $j))
          (then (local.set $sum (f64.add (local.get $sum) (f64.add
            (f64.mul (f64.load (i32.add (local.get $rowV) (i32.shl (local.get $q) (i32.const 3)))) (f64.load (i32.add (local.get $wtv) (i32.shl (local.get $q) (i32.const 3)))))
            (f64.mul (f64.load (i32.add (local.get $rowW) (i32.shl (local.get $q) (i32.const 3)))) (f64.load (i32.add (local.get $vtv) (i32.shl (local.get $q) (i32.const 3))))))))))
        (local.set $target (i32.add (local.get $y) (i32.shl (local.get $r) (i32.const 3))))
        (f64.store (local.get $target) (f64.sub (f64.load (local.get $target)) (local.get $sum)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowLoop))))
)
