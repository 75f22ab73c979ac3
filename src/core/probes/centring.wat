;; The ridge fit's passes over float32 rows (ridge.ts) as WebAssembly SIMD, four columns at a time: column sums (the
;; means), rows centred into float32 (the leave-one-out chunks), rows centred and transposed into the covariance's
;; float64 panels.
;;
;; Why: each pass reads every value of the layer once; as JavaScript loops the three took ~75 ms of a 10,000 × 768
;; fit on a fit worker. Every value goes through the scalar loops' operations (float32 → float64 exactly, one
;; float64 subtraction, one rounding to float32 where the result is float32; sums add rows in row order), so the
;; results are the same numbers.
;;
;; Assembled by scripts/build-wasm.mjs into centringWasm.ts (base64); a unit test checks the two agree.
;; All offsets are bytes; rows are count × size float32, row-major; means are size f64.
(module
  (memory (export "memory") 1)

  ;; sums[c] += rows[r][c] for r = 0 … count−1 in order (sums: size f64).
  (func (export "columnSums") (param $rows i32) (param $count i32) (param $size i32) (param $sums i32)
    (local $p i32) (local $rowEnd i32) (local $s i32) (local $quad i32) (local $r i32) (local $v v128)
    (local.set $quad (i32.and (local.get $size) (i32.const -4)))
    (local.set $p (local.get $rows))
    (block $done
      (loop $eachRow
        (br_if $done (i32.ge_u (local.get $r) (local.get $count)))
        (local.set $s (local.get $sums))
        (local.set $rowEnd (i32.add (local.get $p) (i32.shl (local.get $quad) (i32.const 2))))
        (block $quadsDone
          (loop $quads
            (br_if $quadsDone (i32.ge_u (local.get $p) (local.get $rowEnd)))
            (local.set $v (v128.load (local.get $p)))
            (v128.store (local.get $s) (f64x2.add (v128.load (local.get $s)) (f64x2.promote_low_f32x4 (local.get $v))))
            (v128.store offset=16 (local.get $s) (f64x2.add (v128.load offset=16 (local.get $s))
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $s (i32.add (local.get $s) (i32.const 32)))
            (br $quads)))
        (local.set $rowEnd (i32.add (local.get $rowEnd) (i32.shl (i32.sub (local.get $size) (local.get $quad)) (i32.const 2))))
        (block $restDone
          (loop $rest
            (br_if $restDone (i32.ge_u (local.get $p) (local.get $rowEnd)))
            (f64.store (local.get $s) (f64.add (f64.load (local.get $s)) (f64.promote_f32 (f32.load (local.get $p)))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (local.set $s (i32.add (local.get $s) (i32.const 8)))
            (br $rest)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $eachRow))))

  ;; out[r][c] = float32(rows[r][c] − means[c]) (out: count × size f32).
  (func (export "centredInto32") (param $rows i32) (param $count i32) (param $size i32) (param $means i32) (param $out i32)
    (local $p i32) (local $o i32) (local $rowEnd i32) (local $m i32) (local $quad i32) (local $r i32) (local $v v128)
    (local.set $quad (i32.and (local.get $size) (i32.const -4)))
    (local.set $p (local.get $rows))
    (local.set $o (local.get $out))
    (block $done
      (loop $eachRow
        (br_if $done (i32.ge_u (local.get $r) (local.get $count)))
        (local.set $m (local.get $means))
        (local.set $rowEnd (i32.add (local.get $p) (i32.shl (local.get $quad) (i32.const 2))))
        (block $quadsDone
          (loop $quads
            (br_if $quadsDone (i32.ge_u (local.get $p) (local.get $rowEnd)))
            (local.set $v (v128.load (local.get $p)))
            (v128.store (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (f32x4.demote_f64x2_zero (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (v128.load (local.get $m))))
              (f32x4.demote_f64x2_zero (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
                (v128.load offset=16 (local.get $m))))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (local.set $m (i32.add (local.get $m) (i32.const 32)))
            (br $quads)))
        (local.set $rowEnd (i32.add (local.get $rowEnd) (i32.shl (i32.sub (local.get $size) (local.get $quad)) (i32.const 2))))
        (block $restDone
          (loop $rest
            (br_if $restDone (i32.ge_u (local.get $p) (local.get $rowEnd)))
            (f32.store (local.get $o) (f32.demote_f64 (f64.sub (f64.promote_f32 (f32.load (local.get $p))) (f64.load (local.get $m)))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))
            (local.set $m (i32.add (local.get $m) (i32.const 8)))
            (br $rest)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $eachRow))))

  ;; out[c·stride + r] = rows[r][first + c] − means[first + c] as f64, for c < width, r < count (stride in values).
  ;; Four rows at a time: each 4 × 4 tile is read as four rows of four float32 and written as four columns of four
  ;; float64 (32 contiguous bytes each), so that each column's cache line and page are touched once per four rows
  ;; rather than once per row (the columns are `stride` values apart). Leftover rows go one at a time.
  (func (export "centredTransposed") (param $rows i32) (param $count i32) (param $size i32) (param $first i32) (param $width i32)
    (param $means i32) (param $out i32) (param $stride i32)
    (local $r i32) (local $p i32) (local $m i32) (local $o i32) (local $c i32) (local $quad i32) (local $plane i32) (local $rowBytes i32)
    (local $v v128) (local $low v128) (local $high v128)
    (local $mLow v128) (local $mHigh v128)
    (local $low0 v128) (local $high0 v128) (local $low1 v128) (local $high1 v128)
    (local $low2 v128) (local $high2 v128) (local $low3 v128) (local $high3 v128)
    (local.set $quad (i32.and (local.get $width) (i32.const -4)))
    (local.set $plane (i32.shl (local.get $stride) (i32.const 3)))
    (local.set $rowBytes (i32.shl (local.get $size) (i32.const 2)))
    ;; Tiles of four rows.
    (block $tilesDone
      (loop $eachFour
        (br_if $tilesDone (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $count)))
        (local.set $p (i32.add (local.get $rows) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $size)) (local.get $first)) (i32.const 2))))
        (local.set $m (i32.add (local.get $means) (i32.shl (local.get $first) (i32.const 3))))
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 3))))
        (local.set $c (i32.const 0))
        (block $quadsDone
          (loop $quads
            (br_if $quadsDone (i32.ge_u (local.get $c) (local.get $quad)))
            (local.set $mLow (v128.load (local.get $m)))
            (local.set $mHigh (v128.load offset=16 (local.get $m)))
            (local.set $v (v128.load (local.get $p)))
            (local.set $low0 (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mLow)))
            (local.set $high0 (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $mHigh)))
            (local.set $v (v128.load (i32.add (local.get $p) (local.get $rowBytes))))
            (local.set $low1 (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mLow)))
            (local.set $high1 (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $mHigh)))
            (local.set $v (v128.load (i32.add (local.get $p) (i32.shl (local.get $rowBytes) (i32.const 1)))))
            (local.set $low2 (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mLow)))
            (local.set $high2 (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $mHigh)))
            (local.set $v (v128.load (i32.add (local.get $p) (i32.mul (local.get $rowBytes) (i32.const 3)))))
            (local.set $low3 (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mLow)))
            (local.set $high3 (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $mHigh)))
            ;; Column c: lane 0 of the four rows' low halves; c + 1: lane 1; c + 2, c + 3: the high halves.
            (v128.store (local.get $o)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $low0) (local.get $low1)))
            (v128.store offset=16 (local.get $o)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $low2) (local.get $low3)))
            (v128.store (i32.add (local.get $o) (local.get $plane))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $low0) (local.get $low1)))
            (v128.store offset=16 (i32.add (local.get $o) (local.get $plane))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $low2) (local.get $low3)))
            (v128.store (i32.add (local.get $o) (i32.shl (local.get $plane) (i32.const 1)))
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $high0) (local.get $high1)))
            (v128.store offset=16 (i32.add (local.get $o) (i32.shl (local.get $plane) (i32.const 1)))
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $high2) (local.get $high3)))
            (v128.store (i32.add (local.get $o) (i32.mul (local.get $plane) (i32.const 3)))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $high0) (local.get $high1)))
            (v128.store offset=16 (i32.add (local.get $o) (i32.mul (local.get $plane) (i32.const 3)))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $high2) (local.get $high3)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $m (i32.add (local.get $m) (i32.const 32)))
            (local.set $o (i32.add (local.get $o) (i32.shl (local.get $plane) (i32.const 2))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $quads)))
        ;; The tile rows' last (width mod 4) columns, value by value.
        (block $restDone
          (loop $rest
            (br_if $restDone (i32.ge_u (local.get $c) (local.get $width)))
            (f64.store (local.get $o) (f64.sub (f64.promote_f32 (f32.load (local.get $p))) (f64.load (local.get $m))))
            (f64.store offset=8 (local.get $o) (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $p) (local.get $rowBytes)))) (f64.load (local.get $m))))
            (f64.store offset=16 (local.get $o)
              (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $p) (i32.shl (local.get $rowBytes) (i32.const 1))))) (f64.load (local.get $m))))
            (f64.store offset=24 (local.get $o)
              (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $p) (i32.mul (local.get $rowBytes) (i32.const 3))))) (f64.load (local.get $m))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (local.set $m (i32.add (local.get $m) (i32.const 8)))
            (local.set $o (i32.add (local.get $o) (local.get $plane)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $rest)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $eachFour)))
    ;; The last (count mod 4) rows, one at a time.
    (block $done
      (loop $eachRow
        (br_if $done (i32.ge_u (local.get $r) (local.get $count)))
        (local.set $p (i32.add (local.get $rows) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $size)) (local.get $first)) (i32.const 2))))
        (local.set $m (i32.add (local.get $means) (i32.shl (local.get $first) (i32.const 3))))
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 3))))
        (local.set $c (i32.const 0))
        (block $quadsDone
          (loop $quads
            (br_if $quadsDone (i32.ge_u (local.get $c) (local.get $quad)))
            (local.set $v (v128.load (local.get $p)))
            (local.set $low (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (v128.load (local.get $m))))
            (local.set $high (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
              (v128.load offset=16 (local.get $m))))
            (f64.store (local.get $o) (f64x2.extract_lane 0 (local.get $low)))
            (f64.store (i32.add (local.get $o) (local.get $plane)) (f64x2.extract_lane 1 (local.get $low)))
            (f64.store (i32.add (local.get $o) (i32.shl (local.get $plane) (i32.const 1))) (f64x2.extract_lane 0 (local.get $high)))
            (f64.store (i32.add (local.get $o) (i32.mul (local.get $plane) (i32.const 3))) (f64x2.extract_lane 1 (local.get $high)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $m (i32.add (local.get $m) (i32.const 32)))
            (local.set $o (i32.add (local.get $o) (i32.shl (local.get $plane) (i32.const 2))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $quads)))
        (block $restDone
          (loop $rest
            (br_if $restDone (i32.ge_u (local.get $c) (local.get $width)))
            (f64.store (local.get $o) (f64.sub (f64.promote_f32 (f32.load (local.get $p))) (f64.load (local.get $m))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (local.set $m (i32.add (local.get $m) (i32.const 8)))
            (local.set $o (i32.add (local.get $o) (local.get $plane)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $rest)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $eachRow)))))
