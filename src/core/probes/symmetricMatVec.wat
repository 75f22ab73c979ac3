;; The tridiagonal reduction's matrix–vector product (tridiagonal.ts) as WebAssembly SIMD, reading only the lower
;; triangle of the symmetric trailing block:  y = A[f:, f:] · v[f:]  for the s × s row-major matrix A.
;;
;; Why: this product streams the trailing block from memory once per column, half of the reduction's flops. A
;; general product (onnxruntime's Gemm, as before) reads the whole block; by symmetry each off-diagonal value can
;; serve twice — A[r][c]·v[c] into y[r] and A[r][c]·v[r] into y[c] — so half the block is read. It also saves the
;; onnxruntime call per column (~15 µs of fixed cost and an event-loop turn each, 512 per d = 768 reduction).
;;
;; Assembled by scripts/build-wasm.mjs into symmetricMatVecWasm.ts (base64); a unit test checks the two agree.
;; Offsets are bytes; `matrix` holds s × s f64, `v` s f64 (only v[f:] is read), `y` s − f f64 (written).
(module
  (memory (export "memory") 1)

  (func (export "lowerSymmetricProduct") (param $matrix i32) (param $s i32) (param $f i32) (param $v i32) (param $y i32)
    (local $n i32) (local $i i32) (local $c i32) (local $pairs i32) (local $row i32) (local $vf i32)
    (local $vi f64) (local $splat v128) (local $acc v128) (local $a v128) (local $dot f64) (local $yc i32) (local $value f64)
    (local.set $n (i32.sub (local.get $s) (local.get $f)))
    (local.set $vf (i32.add (local.get $v) (i32.shl (local.get $f) (i32.const 3))))
    ;; y = 0
    (local.set $i (i32.const 0))
    (block $zeroed
      (loop $zero
        (br_if $zeroed (i32.ge_u (local.get $i) (local.get $n)))
        (f64.store (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 3))) (f64.const 0))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $zero)))
    (local.set $i (i32.const 0))
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
        (br $rows)))))
