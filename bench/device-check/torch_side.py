#!/usr/bin/env python3
"""PyTorch side of the device check (bench/device-check/run.sh). No network: random weights only.

    python3 torch_side.py prepare WORK [--device cuda] [--impl auto|hf|plain] [--layers 12 --hidden 768 --heads 12
                                       --vocab 50257] [--prompts 4096 --min-len 4 --max-len 16]
                                       [--time-batches 64,512 --time-seq 16 --dtypes fp32,fp16] [--export fp32,fp16]
    python3 torch_side.py compare ACTIVATIONS_DIR WORK/reference [--tolerance 1e-3]

`prepare --impl llama` builds a Llama-shaped model instead (LlamaForCausalLM, --kv-heads, --intermediate, saved in
--save-dtype; the safetensors path only: use --export none).

`prepare` builds a GPT-2-small-shaped model (seed 0): Hugging Face `GPT2LMHeadModel` when transformers is
installed (`--impl hf`, the GPU machine), else the plain-torch GPT-2 of bench/extraction/torch_gpt2.py
(`--impl plain`, the CPU dry run here). In this order (an ONNX export can disturb the in-memory model, so
references and timings come first):
  1. WORK/dataset.csv: `name,year`, each name a space-separated list of placeholder words "w<id>" (4–16 tokens,
     random ids), and WORK/model/tokenizer.json, a WordLevel tokenizer mapping "w<k>" to id k, so the CLI feeds
     exactly these token ids;
  2. WORK/reference/layer_###.npy: the last-token residual stream at every block boundary (embeddings, then each
     block's output; the last one before the final norm, like our taps) for every dataset row, float32, computed
     on --device in fp32 with the same right padding the CLI uses;
  3. timings of every-layer extraction on WORK/timing_ids.json (full-length rows, --time-seq tokens): the way
     `output_hidden_states=True` is used (full model with LM head; last token of every hidden state, copied to the
     host), and the same without the LM head (`model.transformer`), in each of --dtypes, batch sizes
     --time-batches. Best of 3 × 10 runs after 3 warm-ups, synchronised.
  4. WORK/model/onnx/model.onnx (fp32) and model_fp16.onnx (`model.half()`, on CUDA only), single-file exports:
     dynamo exporter first, the TorchScript exporter if that fails.
Writes WORK/torch.json (environment, timings, exports) and prints it.

`compare` checks an activation folder written by `spacetime-probe extract` against the reference: max |Δ| per
layer, rows matched through manifest.json's dataset line numbers. Prints JSON; exit 0 either way (run.sh judges).
"""
import argparse
import copy
import json
import math
import os
import platform
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_list(text, kind=str):
    return [kind(part) for part in text.split(",") if part.strip()]


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


# ----------------------------------------------------------------------------------------------------------- models

class HfGpt2:
    """transformers GPT2LMHeadModel; taps = hidden_states[0..L-1] plus the last block's output (pre final norm)."""

    name = "hf"

    def __init__(self, args):
        from transformers import GPT2Config, GPT2LMHeadModel
        import transformers
        self.version = f"transformers {transformers.__version__}"
        self.config = GPT2Config(vocab_size=args.vocab, n_positions=1024, n_embd=args.hidden, n_layer=args.layers,
                                 n_head=args.heads, use_cache=False)
        torch.manual_seed(0)
        self.model = GPT2LMHeadModel(self.config).eval()
        self.layers = args.layers

    def to(self, device, dtype=torch.float32):
        clone = copy.copy(self)
        clone.model = copy.deepcopy(self.model).to(device=device, dtype=dtype).eval()
        return clone

    def body(self):
        """The model without its LM head (GPT2Model)."""
        return self.model.transformer

    def blocks(self):
        return self.model.transformer.h

    def taps(self, ids, mask):
        """[B, T, D] tensors at the L+1 block boundaries (pre final norm)."""
        captured = {}

        def hook(_module, _inputs, output):
            captured["last"] = output[0] if isinstance(output, (tuple, list)) else output

        handle = self.blocks()[-1].register_forward_hook(hook)
        try:
            out = self.body()(input_ids=ids, attention_mask=mask, output_hidden_states=True, use_cache=False)
        finally:
            handle.remove()
        return list(out.hidden_states[: self.layers]) + [captured["last"]]

    def hidden_states_with_head(self, ids, mask):
        out = self.model(input_ids=ids, attention_mask=mask, output_hidden_states=True, use_cache=False)
        return out.hidden_states, out.logits

    def hidden_states_no_head(self, ids, mask):
        return self.body()(input_ids=ids, attention_mask=mask, output_hidden_states=True, use_cache=False).hidden_states

    def export_module(self):
        model = self.model

        class LogitsOnly(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask):
                return self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits

        return LogitsOnly().eval()

    def save_config(self, folder):
        # config.json + model.safetensors: the same weights as the ONNX exports, for the checkpoint path
        # (spacetime-probe extract --format safetensors builds its own graph over these bytes).
        self.model.save_pretrained(folder)


class HfLlama(HfGpt2):
    """transformers LlamaForCausalLM (grouped-query attention, RoPE, RMSNorm, SwiGLU), saved in --save-dtype (bf16:
    Llama-2's checkpoints). The float32 copies used for the reference and timings hold the saved (rounded) weights, so
    the reference is what the saved checkpoint computes in float32."""

    name = "llama"

    def __init__(self, args):
        from transformers import LlamaConfig, LlamaForCausalLM
        import transformers
        self.version = f"transformers {transformers.__version__} (LlamaForCausalLM)"
        self.config = LlamaConfig(vocab_size=args.vocab, hidden_size=args.hidden, intermediate_size=args.intermediate,
                                  num_hidden_layers=args.layers, num_attention_heads=args.heads,
                                  num_key_value_heads=args.kv_heads or args.heads, max_position_embeddings=4096,
                                  rms_norm_eps=1e-5, tie_word_embeddings=False, use_cache=False)
        torch.manual_seed(0)
        self.save_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[args.save_dtype]
        self.model = LlamaForCausalLM(self.config).to(self.save_dtype).to(torch.float32).eval()
        self.layers = args.layers

    def body(self):
        """The model without its LM head (LlamaModel)."""
        return self.model.model

    def blocks(self):
        return self.model.model.layers

    def save_config(self, folder):
        copy.deepcopy(self.model).to(self.save_dtype).save_pretrained(folder)


class PlainGpt2:
    """bench/extraction/torch_gpt2.py's plain-torch GPT-2 (no transformers needed)."""

    name = "plain"

    def __init__(self, args):
        sys.path.insert(0, os.path.join(HERE, "..", "extraction"))
        from torch_gpt2 import Gpt2
        torch.manual_seed(0)
        self.model = Gpt2(args.vocab, args.hidden, args.heads, args.layers).eval()
        self.args = args
        self.version = "plain torch GPT-2 (bench/extraction/torch_gpt2.py)"

    def to(self, device, dtype=torch.float32):
        clone = copy.copy(self)
        clone.model = copy.deepcopy(self.model).to(device=device, dtype=dtype).eval()
        return clone

    def _states(self, ids, mask, with_head):
        return self.model.hidden_states(ids, mask, with_head)

    def taps(self, ids, mask):
        return self._states(ids, mask, False)[0]

    def hidden_states_with_head(self, ids, mask):
        return self._states(ids, mask, True)

    def hidden_states_no_head(self, ids, mask):
        return self._states(ids, mask, False)[0]

    def export_module(self):
        return self.model

    def save_config(self, folder):
        a = self.args
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump({"model_type": "gpt2", "n_layer": a.layers, "n_embd": a.hidden, "n_head": a.heads, "vocab_size": a.vocab,
                       "eos_token_id": a.vocab - 1, "bos_token_id": a.vocab - 1}, f)


def build_model(args):
    if args.impl == "llama":
        return HfLlama(args)
    if args.impl in ("auto", "hf"):
        try:
            return HfGpt2(args)
        except ImportError:
            if args.impl == "hf":
                raise
    return PlainGpt2(args)


# ----------------------------------------------------------------------------------------------------------- steps

def write_tokenizer(folder, vocab):
    words = {f"w{k}": k for k in range(vocab)}
    with open(os.path.join(folder, "tokenizer.json"), "w") as f:
        json.dump({"version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
                   "pre_tokenizer": {"type": "WhitespaceSplit"}, "post_processor": None, "decoder": None,
                   "model": {"type": "WordLevel", "vocab": words, "unk_token": "w0"}}, f)


def make_dataset(args, work):
    rng = np.random.default_rng(1)
    seen, rows = set(), []
    while len(rows) < args.prompts:
        length = int(rng.integers(args.min_len, args.max_len + 1))
        ids = tuple(int(v) for v in rng.integers(0, args.vocab, size=length))
        if ids in seen:
            continue
        seen.add(ids)
        rows.append(list(ids))
    with open(os.path.join(work, "dataset.csv"), "w") as f:
        f.write("name,year\n")
        for index, ids in enumerate(rows):
            f.write(" ".join(f"w{k}" for k in ids) + f",{1500 + (index * 37) % 500}\n")
    return rows


def pad(rows, pad_id, device):
    t = max(len(r) for r in rows)
    ids = torch.full((len(rows), t), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), t), dtype=torch.long)
    for b, r in enumerate(rows):
        ids[b, : len(r)] = torch.tensor(r)
        mask[b, : len(r)] = 1
    return ids.to(device), mask.to(device)


def last_token_taps(model, rows, args, device):
    """(first row, layer, float32 [rows, D]) for every tap, in right-padded chunks of 256 rows."""
    with torch.inference_mode():
        for start in range(0, len(rows), 256):
            chunk = rows[start: start + 256]
            ids, mask = pad(chunk, args.vocab - 1, device)
            last = torch.tensor([len(r) - 1 for r in chunk], device=device)
            picks = torch.arange(len(chunk), device=device)
            for layer, state in enumerate(model.taps(ids, mask)):
                yield start, layer, state[picks, last].float().cpu().numpy()


def write_reference(model, rows, args, work, device):
    folder = os.path.join(work, "reference")
    os.makedirs(folder, exist_ok=True)
    layers = [np.zeros((len(rows), args.hidden), dtype=np.float32) for _ in range(args.layers + 1)]
    for start, layer, values in last_token_taps(model, rows, args, device):
        layers[layer][start: start + len(values)] = values
    for layer, values in enumerate(layers):
        np.save(os.path.join(folder, f"layer_{layer:03d}.npy"), values)
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump({"rows": len(rows), "layers": args.layers + 1, "hidden": args.hidden, "device": device, "first_data_line": 2}, f)
    return float(max(np.abs(v).max() for v in layers))


def half_error(base, rows, args, work, device):
    references = [np.load(os.path.join(work, "reference", f"layer_{layer:03d}.npy")) for layer in range(args.layers + 1)]
    out = {}
    for name, dtype in (("fp16", torch.float16), ("bf16", torch.bfloat16)):
        model = base.to(device, dtype)
        worst, scale = 0.0, 0.0
        for start, layer, values in last_token_taps(model, rows, args, device):
            ref = references[layer][start: start + len(values)]
            worst = max(worst, float(np.abs(values - ref).max()))
            scale = max(scale, float(np.abs(ref).max()))
        out[name] = {"max_abs_diff": worst, "max_abs_ref": scale}
        del model
    return out


def time_extraction(model, ids_cpu, device, runs, repeats):
    """Best seconds per batch for: with LM head (output_hidden_states as in transformers), and without."""
    mask_cpu = torch.ones_like(ids_cpu)
    results = {}
    for label, with_head in (("with_lm_head", True), ("no_lm_head", False)):
        def step():
            ids = ids_cpu.to(device, non_blocking=False)
            mask = mask_cpu.to(device)
            states = model.hidden_states_with_head(ids, mask)[0] if with_head else model.hidden_states_no_head(ids, mask)
            # What an extractor keeps: every layer's last-token vector, on the host.
            return torch.stack([s[:, -1] for s in states], 1).float().cpu()

        with torch.inference_mode():
            for _ in range(3):
                step()
            sync(device)
            best = math.inf
            for _ in range(repeats):
                start = time.perf_counter()
                for _ in range(runs):
                    step()
                sync(device)
                best = min(best, (time.perf_counter() - start) / runs)
        results[label] = {"seconds_per_batch": best, "tokens_per_second": ids_cpu.numel() / best}
    return results


def export_onnx(module, path, exporter, example):
    """Single-file ONNX export; returns which exporter worked (dynamo first unless told otherwise)."""
    axes = {0: "batch_size", 1: "sequence_length"}
    common = dict(input_names=["input_ids", "attention_mask"], output_names=["logits"],
                  dynamic_axes={"input_ids": axes, "attention_mask": axes, "logits": axes})
    errors = []
    has_dynamo = tuple(int(p) for p in torch.__version__.split(".")[:2]) >= (2, 5)
    order = ["dynamo", "legacy"] if exporter == "auto" else [exporter]
    for kind in order:
        try:
            if kind == "dynamo":
                if not has_dynamo:
                    raise RuntimeError(f"torch {torch.__version__} has no dynamo exporter")
                torch.onnx.export(module, example, path, dynamo=True, external_data=False, **common)
            else:
                extra = {"dynamo": False} if has_dynamo else {}
                torch.onnx.export(module, example, path, opset_version=17, do_constant_folding=True, **common, **extra)
            return {"exporter": kind, "bytes": os.path.getsize(path), "errors": errors}
        except Exception as error:  # noqa: BLE001 - report and try the next exporter
            errors.append(f"{kind}: {type(error).__name__}: {str(error).splitlines()[0][:300] if str(error) else ''}")
    return {"exporter": None, "errors": errors}


def prepare(args):
    work = os.path.abspath(args.work)
    folder = os.path.join(work, "model")
    os.makedirs(os.path.join(folder, "onnx"), exist_ok=True)
    device = args.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("torch_side.py: --device cuda but torch.cuda.is_available() is False")
    started = time.perf_counter()
    base = build_model(args)
    base.save_config(folder)
    write_tokenizer(folder, args.vocab)
    rows = make_dataset(args, work)
    info = {
        "impl": base.name, "impl_version": base.version, "torch": torch.__version__, "python": platform.python_version(),
        "device": device, "gpu": torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
        "shape": {"layers": args.layers, "hidden": args.hidden, "heads": args.heads, "vocab": args.vocab,
                  **({"kv_heads": args.kv_heads or args.heads, "intermediate": args.intermediate, "saved": args.save_dtype} if args.impl == "llama" else {})},
        "dataset": {"prompts": len(rows), "tokens": sum(len(r) for r in rows), "min_len": args.min_len, "max_len": args.max_len},
    }
    fp32 = base.to(device, torch.float32)
    info["reference_max_abs"] = write_reference(fp32, rows, args, work, device)
    info["seconds_reference"] = time.perf_counter() - started

    # Timings on full-length rows shared with the ORT side (WORK/timing_ids.json).
    time_batches = parse_list(args.time_batches, int)
    generator = torch.Generator().manual_seed(2)
    timing_ids = torch.randint(0, args.vocab, (max(time_batches), args.time_seq), generator=generator)
    with open(os.path.join(work, "timing_ids.json"), "w") as f:
        json.dump({"seq": args.time_seq, "ids": timing_ids.tolist()}, f)
    timings = []
    for dtype_name in parse_list(args.dtypes):
        if dtype_name in ("fp16", "bf16") and not device.startswith("cuda"):
            timings.append({"dtype": dtype_name, "skipped": f"{dtype_name} timing needs CUDA"})
            continue
        model = fp32 if dtype_name == "fp32" else base.to(device, torch.bfloat16 if dtype_name == "bf16" else torch.float16)
        for batch in time_batches:
            try:
                result = time_extraction(model, timing_ids[:batch], device, args.runs, args.repeats)
                timings.append({"dtype": dtype_name, "batch": batch, "seq": args.time_seq, **result})
            except Exception as error:  # noqa: BLE001 - e.g. out of memory: record and go on
                timings.append({"dtype": dtype_name, "batch": batch, "seq": args.time_seq, "error": f"{type(error).__name__}: {error}"[:300]})
            print(json.dumps(timings[-1]), file=sys.stderr, flush=True)
        if model is not fp32:
            del model
    info["timings"] = timings
    # PyTorch's own half-precision error against its float32 reference (the same prompts, every layer): what a
    # half-precision extraction of ours should be compared with.
    if device.startswith("cuda"):
        info["half_error"] = half_error(base, rows, args, work, device)
        print(json.dumps({"half_error": info["half_error"]}), file=sys.stderr, flush=True)
    del fp32
    if device.startswith("cuda"):
        torch.cuda.empty_cache()

    # Exports last, each from its own copy.
    exports = {}
    example_rows = [[1, 2, 3, 4, 5, 6, 7, 8], [9, 10, 11, 12, 13, 14, 15, 16]]
    for variant in [v for v in parse_list(args.export) if v != "none"]:
        if variant == "fp16" and not device.startswith("cuda"):
            exports[variant] = {"skipped": "fp16 export needs CUDA (half-precision CPU kernels are incomplete)"}
            continue
        copy_ = base.to(device, torch.float16 if variant == "fp16" else torch.float32)
        path = os.path.join(folder, "onnx", "model.onnx" if variant == "fp32" else f"model_{variant}.onnx")
        t0 = time.perf_counter()
        exports[variant] = export_onnx(copy_.export_module(), path, args.exporter, pad(example_rows, args.vocab - 1, device))
        exports[variant]["seconds"] = time.perf_counter() - t0
        print(json.dumps({"export": variant, **exports[variant]}), file=sys.stderr, flush=True)
        del copy_
    info["exports"] = exports
    info["seconds_total"] = time.perf_counter() - started
    with open(os.path.join(work, "torch.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(json.dumps(info))


def compare(args):
    with open(os.path.join(args.activations, "manifest.json")) as f:
        manifest = json.load(f)
    with open(os.path.join(args.reference, "meta.json")) as f:
        meta = json.load(f)
    rows = np.array(manifest["rows"]) - meta["first_data_line"]
    layers = []
    worst = 0.0
    problems = []
    if manifest["numEntities"] != meta["rows"]:
        problems.append(f"{manifest['numEntities']} entities extracted, reference has {meta['rows']}")
    if len(manifest["layers"]) != meta["layers"]:
        problems.append(f"{len(manifest['layers'])} layers extracted, reference has {meta['layers']}")
    for entry in manifest["layers"][: meta["layers"]]:
        ours = np.load(os.path.join(args.activations, entry["file"]))
        ref = np.load(os.path.join(args.reference, f"layer_{entry['index']:03d}.npy"))[rows]
        delta = float(np.abs(ours.astype(np.float64) - ref.astype(np.float64)).max())
        worst = max(worst, delta)
        layers.append({"layer": entry["index"], "max_abs_diff": delta, "max_abs_ref": float(np.abs(ref).max())})
    result = {"activations": args.activations, "device": manifest.get("device"), "layers": layers, "max_abs_diff": worst,
              "tolerance": args.tolerance, "pass": not problems and worst <= args.tolerance, "problems": problems}
    print(json.dumps(result))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("work")
    p.add_argument("--device", default="cuda")
    p.add_argument("--impl", choices=["auto", "hf", "plain", "llama"], default="auto")
    p.add_argument("--kv-heads", type=int, default=0, help="llama: key/value heads (default: --heads)")
    p.add_argument("--intermediate", type=int, default=0, help="llama: MLP width (default: 8/3 · hidden, rounded to 256)")
    p.add_argument("--save-dtype", choices=["bf16", "fp16", "fp32"], default="bf16", help="llama: the checkpoint's dtype")
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--hidden", type=int, default=768)
    p.add_argument("--heads", type=int, default=12)
    p.add_argument("--vocab", type=int, default=50257)
    p.add_argument("--prompts", type=int, default=4096)
    p.add_argument("--min-len", type=int, default=4)
    p.add_argument("--max-len", type=int, default=16)
    p.add_argument("--time-batches", default="64,512")
    p.add_argument("--time-seq", type=int, default=16)
    p.add_argument("--dtypes", default="fp32,fp16")
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--export", default="fp32,fp16")
    p.add_argument("--exporter", choices=["auto", "dynamo", "legacy"], default="auto")
    c = sub.add_parser("compare")
    c.add_argument("activations")
    c.add_argument("reference")
    c.add_argument("--tolerance", type=float, default=1e-3)
    args = parser.parse_args()
    if getattr(args, "impl", None) == "llama" and not args.intermediate:
        args.intermediate = (8 * args.hidden // 3 + 255) // 256 * 256
    if args.command == "prepare":
        prepare(args)
    else:
        compare(args)


if __name__ == "__main__":
    sys.exit(main())
