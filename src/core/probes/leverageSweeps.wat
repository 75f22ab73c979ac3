;; The leave-one-out sweeps of ridge.ts (quadraticForms) as WebAssembly SIMD: for each row p of a block and four
;; alphas at once, the LDLᵀ recurrences  u_k = p_k − l_k·u_{k−1},  s += u_k·u_k·(1/D_k).
;;
;; Why WebAssembly: the loop is instruction-bound in JavaScript (16 scalar multiply/adds per step for two rows and
;; four alphas); here the four alphas are two f64x2 lanes each, half the instructions. Every lane does the same
;; IEEE operations in the same order as the scalar loop (no fused multiply-add), so the sums are the same doubles.
;;
;; Assembled by scripts/build-wasm.mjs into leverageSweepsWasm.ts (base64); a unit test checks the two agree.
;;
;; Memory layout (byte offsets, given by the caller):
;;   rows  count × size values (f32 for sweepFloat32, f64 for sweepFloat64), row-major
;;   coefficients  size × 8 f64: per step k, [l0 l1 l2 l3 1/D0 1/D1 1/D2 1/D3] (l = 0 at k = 0)
;;   out  4 × count f64: the sums of alpha j for row i at out + (j·count + i)·8
;; Rows go two at a time (sharing each step's coefficient loads); an odd last row is swept paired with itself.
(module
  (memory (export "memory") 1)

  (func $sweep (param $rows i32) (param $count i32) (param $size i32) (param $coefficients i32) (param $out i32)
    (param $width i32) (param $double i32)
    (local $i i32) (local $stride i32) (local $first i32) (local $second i32) (local $end i32) (local $c i32)
    (local $a v128) (local $b v128) (local $l01 v128) (local $l23 v128) (local $d01 v128) (local $d23 v128)
    (local $u01 v128) (local $u23 v128) (local $v01 v128) (local $v23 v128)
    (local $s01 v128) (local $s23 v128) (local $r01 v128) (local $r23 v128)
    (local $plane i32) (local $target i32)
    (if (i32.eqz (local.get $size)) (then (return)))
    (local.set $stride (i32.mul (local.get $size) (local.get $width)))
    (local.set $plane (i32.shl (local.get $count) (i32.const 3)))
    (block $rowsDone
      (loop $pairs
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $first (i32.add (local.get $rows) (i32.mul (local.get $i) (local.get $stride))))
        ;; The second row of the pair, or the first again for an odd last row.
        (local.set $second (select (i32.add (local.get $first) (local.get $stride)) (local.get $first)
          (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $count))))
        (local.set $end (i32.add (local.get $first) (local.get $stride)))
        (local.set $c (local.get $coefficients))
        (local.set $u01 (v128.const f64x2 0 0)) (local.set $u23 (v128.const f64x2 0 0))
        (local.set $v01 (v128.const f64x2 0 0)) (local.set $v23 (v128.const f64x2 0 0))
        (local.set $s01 (v128.const f64x2 0 0)) (local.set $s23 (v128.const f64x2 0 0))
        (local.set $r01 (v128.const f64x2 0 0)) (local.set $r23 (v128.const f64x2 0 0))
        (loop $steps
          (if (local.get $double)
            (then
              (local.set $a (f64x2.splat (f64.load (local.get $first))))
              (local.set $b (f64x2.splat (f64.load (local.get $second)))))
            (else
              (local.set $a (f64x2.splat (f64.promote_f32 (f32.load (local.get $first)))))
              (local.set $b (f64x2.splat (f64.promote_f32 (f32.load (local.get $second)))))))
          (local.set $l01 (v128.load (local.get $c)))
          (local.set $l23 (v128.load offset=16 (local.get $c)))
          (local.set $u01 (f64x2.sub (local.get $a) (f64x2.mul (local.get $l01) (local.get $u01))))
          (local.set $v01 (f64x2.sub (local.get $b) (f64x2.mul (local.get $l01) (local.get $v01))))
          (local.set $u23 (f64x2.sub (local.get $a) (f64x2.mul (local.get $l23) (local.get $u23))))
          (local.set $v23 (f64x2.sub (local.get $b) (f64x2.mul (local.get $l23) (local.get $v23))))
          (local.set $d01 (v128.load offset=32 (local.get $c)))
          (local.set $d23 (v128.load offset=48 (local.get $c)))
          (local.set $s01 (f64x2.add (local.get $s01) (f64x2.mul (f64x2.mul (local.get $u01) (local.get $u01)) (local.get $d01))))
          (local.set $r01 (f64x2.add (local.get $r01) (f64x2.mul (f64x2.mul (local.get $v01) (local.get $v01)) (local.get $d01))))
          (local.set $s23 (f64x2.add (local.get $s23) (f64x2.mul (f64x2.mul (local.get $u23) (local.get $u23)) (local.get $d23))))
          (local.set $r23 (f64x2.add (local.get $r23) (f64x2.mul (f64x2.mul (local.get $v23) (local.get $v23)) (local.get $d23))))
          (local.set $first (i32.add (local.get $first) (local.get $width)))
          (local.set $second (i32.add (local.get $second) (local.get $width)))
          (local.set $c (i32.add (local.get $c) (i32.const 64)))
          (br_if $steps (i32.lt_u (local.get $first) (local.get $end))))
        ;; Row i's four sums, then row i + 1's (when there is one).
        (local.set $target (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 3))))
        (f64.store (local.get $target) (f64x2.extract_lane 0 (local.get $s01)))
        (f64.store (i32.add (local.get $target) (local.get $plane)) (f64x2.extract_lane 1 (local.get $s01)))
        (f64.store (i32.add (local.get $target) (i32.shl (local.get $plane) (i32.const 1))) (f64x2.extract_lane 0 (local.get $s23)))
        (f64.store (i32.add (local.get $target) (i32.mul (local.get $plane) (i32.const 3))) (f64x2.extract_lane 1 (local.get $s23)))
        (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $count))
          (then
            (local.set $target (i32.add (local.get $target) (i32.const 8)))
            (f64.store (local.get $target) (f64x2.extract_lane 0 (local.get $r01)))
            (f64.store (i32.add (local.get $target) (local.get $plane)) (f64x2.extract_lane 1 (local.get $r01)))
            (f64.store (i32.add (local.get $target) (i32.shl (local.get $plane) (i32.const 1))) (f64x2.extract_lane 0 (local.get $r23)))
            (f64.store (i32.add (local.get $target) (i32.mul (local.get $plane) (i32.const 3))) (f64x2.extract_lane 1 (local.get $r23)))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $pairs))))

  (func (export "sweepFloat32") (param $rows i32) (param $count i32) (param $size i32) (param $coefficients i32) (param $out i32)
    (call $sweep (local.get $rows) (local.get $count) (local.get $size) (local.get $coefficients) (local.get $out) (i32.const 4) (i32.const 0)))

  (func (export "sweepFloat64") (param $rows i32) (param $count i32) (param $size i32) (param $coefficients i32) (param $out i32)
    (call $sweep (local.get $rows) (local.get $count) (local.get $size) (local.get $coefficients) (local.get $out) (i32.const 8) (i32.const 1))))
