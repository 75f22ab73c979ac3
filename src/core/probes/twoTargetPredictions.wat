;; Predictions of a two-target ridge probe (latitude and longitude, ridge.ts predict) as WebAssembly SIMD: for each
;; row x, out = intercept + Σ_f x_f·coef_f with both targets in the two f64 lanes of one v128.
;;
;; Why: predictions run on the main thread for every row of every layer (10,000 × 768: 25 ms per layer as a
;; JavaScript loop, against the fit workers for the same two cores). Each lane adds x_f·coef_f to its running sum
;; in feature order, the scalar loop's operations (no fused multiply-add), so the predictions are the same doubles.
;;
;; Assembled by scripts/build-wasm.mjs into twoTargetPredictionsWasm.ts (base64); a unit test checks the two agree.
;;
;; Memory layout (byte offsets, given by the caller):
;;   rows  count × size values (f32 for predictFloat32, f64 for predictFloat64), row-major
;;   coefficients  size × 2 f64 (row-major: feature f's two targets at coefficients + 16·f)
;;   intercept  2 f64
;;   out  count × 2 f64
;; Rows go four at a time (four independent sums, sharing each feature's coefficient load); a last group of fewer
;; than four repeats its last row and stores only the rows there are.
(module
  (memory (export "memory") 1)

  (func $predict (param $rows i32) (param $count i32) (param $size i32) (param $coefficients i32) (param $intercept i32)
    (param $out i32) (param $width i32) (param $double i32)
    (local $i i32) (local $stride i32) (local $last i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $end i32) (local $c i32)
    (local $w v128) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $target i32)
    (if (i32.eqz (local.get $count)) (then (return)))
    (local.set $stride (i32.mul (local.get $size) (local.get $width)))
    (local.set $last (i32.add (local.get $rows) (i32.mul (i32.sub (local.get $count) (i32.const 1)) (local.get $stride))))
    (block $rowsDone
      (loop $groups
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $p0 (i32.add (local.get $rows) (i32.mul (local.get $i) (local.get $stride))))
        ;; Rows past the last repeat it.
        (local.set $p1 (select (i32.add (local.get $p0) (local.get $stride)) (local.get $last)
          (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $count))))
        (local.set $p2 (select (i32.add (local.get $p1) (local.get $stride)) (local.get $last)
          (i32.lt_u (i32.add (local.get $i) (i32.const 2)) (local.get $count))))
        (local.set $p3 (select (i32.add (local.get $p2) (local.get $stride)) (local.get $last)
          (i32.lt_u (i32.add (local.get $i) (i32.const 3)) (local.get $count))))
        (local.set $end (i32.add (local.get $p0) (local.get $stride)))
        (local.set $c (local.get $coefficients))
        (local.set $s0 (v128.load (local.get $intercept)))
        (local.set $s1 (local.get $s0))
        (local.set $s2 (local.get $s0))
        (local.set $s3 (local.get $s0))
        (if (i32.ne (local.get $size) (i32.const 0))
          (then
            (if (local.get $double)
              (then
                (loop $features64
                  (local.set $w (v128.load (local.get $c)))
                  (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (f64x2.splat (f64.load (local.get $p0))) (local.get $w))))
                  (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (f64x2.splat (f64.load (local.get $p1))) (local.get $w))))
                  (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (f64x2.splat (f64.load (local.get $p2))) (local.get $w))))
                  (local.set $s3 (f64x2.add (local.get $s3) (f64x2.mul (f64x2.splat (f64.load (local.get $p3))) (local.get $w))))
                  (local.set $p0 (i32.add (local.get $p0) (i32.const 8)))
                  (local.set $p1 (i32.add (local.get $p1) (i32.const 8)))
                  (local.set $p2 (i32.add (local.get $p2) (i32.const 8)))
                  (local.set $p3 (i32.add (local.get $p3) (i32.const 8)))
                  (local.set $c (i32.add (local.get $c) (i32.const 16)))
                  (br_if $features64 (i32.lt_u (local.get $p0) (local.get $end)))))
              (else
                (loop $features32
                  (local.set $w (v128.load (local.get $c)))
                  (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (f64x2.splat (f64.promote_f32 (f32.load (local.get $p0)))) (local.get $w))))
                  (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (f64x2.splat (f64.promote_f32 (f32.load (local.get $p1)))) (local.get $w))))
                  (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (f64x2.splat (f64.promote_f32 (f32.load (local.get $p2)))) (local.get $w))))
                  (local.set $s3 (f64x2.add (local.get $s3) (f64x2.mul (f64x2.splat (f64.promote_f32 (f32.load (local.get $p3)))) (local.get $w))))
                  (local.set $p0 (i32.add (local.get $p0) (i32.const 4)))
                  (local.set $p1 (i32.add (local.get $p1) (i32.const 4)))
                  (local.set $p2 (i32.add (local.get $p2) (i32.const 4)))
                  (local.set $p3 (i32.add (local.get $p3) (i32.const 4)))
                  (local.set $c (i32.add (local.get $c) (i32.const 16)))
                  (br_if $features32 (i32.lt_u (local.get $p0) (local.get $end))))))))
        (local.set $target (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 4))))
        (v128.store (local.get $target) (local.get $s0))
        (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $count)) (then (v128.store offset=16 (local.get $target) (local.get $s1))))
        (if (i32.lt_u (i32.add (local.get $i) (i32.const 2)) (local.get $count)) (then (v128.store offset=32 (local.get $target) (local.get $s2))))
        (if (i32.lt_u (i32.add (local.get $i) (i32.const 3)) (local.get $count)) (then (v128.store offset=48 (local.get $target) (local.get $s3))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $groups))))

  (func (export "predictFloat32") (param $rows i32) (param $count i32) (param $size i32) (param $coefficients i32) (param $intercept i32) (param $out i32)
    (call $predict (local.get $rows) (local.get $count) (local.get $size) (local.get $coefficients) (local.get $intercept) (local.get $out) (i32.const 4) (i32.const 0)))

  (func (export "predictFloat64") (param $rows i32) (param $count i32) (param $size i32) (param $coefficients i32) (param $intercept i32) (param $out i32)
    (call $predict (local.get $rows) (local.get $count) (local.get $size) (local.get $coefficients) (local.get $intercept) (local.get $out) (i32.const 8) (i32.const 1))))
