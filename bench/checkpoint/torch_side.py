#!/usr/bin/env python3
"""PyTorch CPU side of the safetensors benchmark: the whole process, load to last-token states, timed.

    /work/v/bin/python bench/checkpoint/torch_side.py MODEL_DIR PROMPTS [--batch 16] [--threads 2]
                       [--limit N] [--sort] [--attn sdpa|eager] [--head full|none] [--save-states FILE.npy]

MODEL_DIR: a save_pretrained folder (config.json, safetensors, tokenizer.json), e.g. from make_checkpoints.py.
PROMPTS:   .json (an array of strings, or of objects with "prompt"/"text", or {"prompts": [...]}), or a text file
           with one prompt per line.

What it does, in the order our Node side does it:
  1. load: AutoModelForCausalLM.from_pretrained(MODEL_DIR, dtype=float32) (bf16/fp16 checkpoints are converted,
     as our CPU path does) and tokenizers.Tokenizer.from_file(MODEL_DIR/tokenizer.json): the same ids as our side
     (special tokens included, i.e. BOS where the post-processor adds it).
  2. the prompts in file order (or by length with --sort), batches of --batch, right-padded with attention_mask,
     forward with output_hidden_states=True under torch.inference_mode, and the last real token's state of every
     layer gathered into a float32 [prompts, layers + 1, hidden] array (transformers' last entry is after the final
     norm; ours is before it: the same work either way).
Prints one JSON object: load_s, tokens (real and padded), seconds (all batches, the first included), tokens_per_s
(real tokens / seconds), first_batch_s, process_s (from interpreter start: imports + load + run), peak_rss_mb
(getrusage ru_maxrss), threads, torch and transformers versions.
"""
import time

PROCESS_START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402


def read_prompts(path):
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if isinstance(data, dict):
            data = data["prompts"]
        return [p if isinstance(p, str) else p.get("prompt", p.get("text")) for p in data]
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("prompts")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads (the machine's cores: 2 here)")
    ap.add_argument("--limit", type=int, help="only the first N prompts")
    ap.add_argument("--sort", action="store_true", help="batch prompts sorted by token count (less padding)")
    ap.add_argument("--attn", choices=["sdpa", "eager"], default="sdpa")
    ap.add_argument("--head", choices=["full", "none"], default="full",
                    help="full: the CausalLM forward a user writes (logits at every position, as transformers "
                         "computes them); none: the base model only (no LM head), closest to our pruned graph")
    ap.add_argument("--save-states", help="write the [prompts, layers + 1, hidden] float32 states (.npy)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    prompts = read_prompts(args.prompts)[:args.limit]

    start = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(args.model_dir, dtype=torch.float32, attn_implementation=args.attn)
    model.eval()
    tokenizer = Tokenizer.from_file(os.path.join(args.model_dir, "tokenizer.json"))
    load_s = time.perf_counter() - start
    forward = model if args.head == "full" else model.base_model
    pad_id = model.config.pad_token_id if model.config.pad_token_id is not None else 0

    start = time.perf_counter()
    ids = [e.ids for e in tokenizer.encode_batch(prompts)]
    tokenize_s = time.perf_counter() - start
    order = sorted(range(len(ids)), key=lambda i: len(ids[i])) if args.sort else list(range(len(ids)))

    layers = model.config.num_hidden_layers
    states = np.zeros((len(ids), layers + 1, model.config.hidden_size), dtype=np.float32)
    real_tokens = padded_tokens = 0
    first_batch_s = None
    start = time.perf_counter()
    with torch.inference_mode():
        for at in range(0, len(order), args.batch):
            rows = order[at:at + args.batch]
            lengths = torch.tensor([len(ids[i]) for i in rows])
            width = int(lengths.max())
            input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for r, i in enumerate(rows):
                input_ids[r, :len(ids[i])] = torch.tensor(ids[i])
                mask[r, :len(ids[i])] = 1
            out = forward(input_ids=input_ids, attention_mask=mask, output_hidden_states=True, use_cache=False)
            last = lengths - 1
            picked = torch.stack([h[torch.arange(len(rows)), last] for h in out.hidden_states], dim=1)
            states[rows] = picked.float().numpy()
            real_tokens += int(lengths.sum())
            padded_tokens += len(rows) * width
            if first_batch_s is None:
                first_batch_s = time.perf_counter() - start
    seconds = time.perf_counter() - start

    if args.save_states:
        np.save(args.save_states, states)
    result = {
        "side": "torch",
        "model_dir": os.path.abspath(args.model_dir),
        "model_type": model.config.model_type,
        "parameters": sum(p.numel() for p in model.parameters()),
        "prompts": len(ids),
        "batch": args.batch,
        "sorted": args.sort,
        "attn": args.attn,
        "head": args.head,
        "load_s": round(load_s, 3),
        "tokenize_s": round(tokenize_s, 4),
        "tokens": {"real": real_tokens, "padded": padded_tokens},
        "seconds": round(seconds, 3),
        "tokens_per_s": round(real_tokens / seconds, 1),
        "padded_tokens_per_s": round(padded_tokens / seconds, 1),
        "first_batch_s": round(first_batch_s, 3),
        "process_s": round(time.perf_counter() - PROCESS_START, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
