#!/usr/bin/env python3
"""Random-weight checkpoints for the safetensors speed benchmark (our graph vs PyTorch CPU), not committed.

Written with torch 2.13.0+cpu, transformers 5.18.0, tokenizers 0.23.2:

    /work/v/bin/python bench/checkpoint/make_checkpoints.py OUT_DIR [--only gpt2-small|llama-150m]
                       [--llama-dtype float32|bfloat16] [--prompts 1024] [--build-tokenizers]

Writes, with save_pretrained (safetensors) and seed 0:
  OUT_DIR/gpt2-small/   GPT-2-small shape: 12 layers x 768, 12 heads, 1024 positions, vocab 50257, tied LM head,
                        float32 (124.4M parameters, 498 MB).
  OUT_DIR/llama-150m/   Llama-style: 12 layers x 768, 12 heads / 4 KV heads (GQA), SwiGLU 3072, vocab 32000,
                        untied LM head, rope_theta 10000; float32 by default (153.0M parameters, 612 MB),
                        or bfloat16 with --llama-dtype (306 MB; our CPU side converts it to float32 when loading).
  OUT_DIR/prompts.json  a JSON array of prompt strings (entity names from ../shared/datasets/paper/world_place.csv
                        when present, in templates "{name}", "Where is {name}?", ...; else a built-in list), for
                        both sides of the benchmark.
Each model folder gets config.json, generation_config.json, model.safetensors, tokenizer.json, tokenizer_config.json.

Tokenizers: GPT-2's real byte-level BPE tokenizer.json (vocab 50257) and Llama-2's SentencePiece-style one
(vocab 32000) are copied from ../shared/fixtures/hf/{gpt2-tiny,llama-tiny-bf16}/ when those exist; otherwise (or
with --build-tokenizers) tokenizers of exactly that size are built here: BPE trained on the prompt corpus, then
padded with merges of two byte-level symbols until the vocabulary is full. Either way `tokenizers` loads them.
"""
import argparse
import csv
import json
import os
import shutil
import time

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import AutoModelForCausalLM, GPT2Config, LlamaConfig

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
SHARED_GPT2 = os.path.join(SHARED, "fixtures", "hf", "gpt2-tiny", "tokenizer.json")
SHARED_LLAMA = os.path.join(SHARED, "fixtures", "hf", "llama-tiny-bf16", "tokenizer.json")
WORLD_PLACES = os.path.join(SHARED, "datasets", "paper", "world_place.csv")

TEMPLATES = ["{name}", "Where is {name}?", "What are the coordinates of {name}?", "{name} is located in",
             "The history of {name}"]
FALLBACK_NAMES = ["Los Angeles", "São Paulo", "The Eiffel Tower", "Ulaanbaatar", "Christopher Columbus",
                  "Reykjavík", "北京", "Zürich", "Kraków", "Mount Kilimanjaro", "The Great Wall of China",
                  "New York City", "Marie Curie", "Abraham Lincoln", "Cleopatra", "Times Square", "Buenos Aires",
                  "Golden Gate Bridge", "Lake Titicaca", "Machu Picchu"]


def entity_names(limit):
    if os.path.exists(WORLD_PLACES):
        with open(WORLD_PLACES, newline="", encoding="utf-8") as f:
            names = [row["name"] for row in csv.DictReader(f) if row.get("name")]
        return names[:limit]
    return FALLBACK_NAMES


def make_prompts(count):
    names = entity_names(count)
    prompts = []
    i = 0
    while len(prompts) < count:
        name = names[i % len(names)]
        prompts.append(TEMPLATES[i % len(TEMPLATES)].format(name=name))
        i += 1
    return prompts


def pad_bpe(tok, size):
    """Fill a trained BPE up to exactly `size` tokens with merges of an existing token and one existing symbol
    (valid BPE merges: both halves are in the vocabulary), deterministically."""
    data = json.loads(tok.to_str())
    vocab, merges = data["model"]["vocab"], data["model"]["merges"]
    merges = [m if isinstance(m, list) else m.split(" ") for m in merges]
    special = {t["content"] for t in data["added_tokens"]}
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1]) if t not in special]
    symbols = [t for t in tokens if len(t) == 1]
    for a in tokens:
        if len(vocab) >= size:
            break
        for b in symbols:
            if len(vocab) >= size:
                break
            if a + b not in vocab:
                vocab[a + b] = len(vocab)
                merges.append([a, b])
    assert len(vocab) == size, len(vocab)
    data["model"]["merges"] = merges
    return Tokenizer.from_str(json.dumps(data))


def build_gpt2_tokenizer(corpus, size=50257):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = trainers.BpeTrainer(vocab_size=size - 1, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(corpus, trainer=trainer)
    tok = pad_bpe(tok, size - 1)
    tok.add_special_tokens(["<|endoftext|>"])  # id size-1, as in GPT-2
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return tok


def build_llama_tokenizer(corpus, size=32000):
    specials = ["<unk>", "<s>", "</s>"]
    trained = Tokenizer(models.BPE(unk_token="<unk>"))
    trained.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    trainer = trainers.BpeTrainer(vocab_size=size - 256, special_tokens=specials, show_progress=False)
    trained.train_from_iterator(corpus, trainer=trainer)
    trained = pad_bpe(trained, size - 256)
    data = json.loads(trained.to_str())["model"]
    vocab = {t: i for i, t in enumerate(specials)}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for t, _ in sorted(data["vocab"].items(), key=lambda kv: kv[1]):
        if t not in vocab:
            vocab[t] = len(vocab)
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in data["merges"]]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.add_special_tokens(specials)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", 1)])
    assert tok.get_vocab_size() == size, tok.get_vocab_size()
    return tok


def write_tokenizer(folder, kind, corpus, build):
    target = os.path.join(folder, "tokenizer.json")
    source = SHARED_GPT2 if kind == "gpt2" else SHARED_LLAMA
    if os.path.exists(source) and not build:
        shutil.copyfile(source, target)  # not copy(): the shared files are read-only
        origin = source
    else:
        tok = build_gpt2_tokenizer(corpus) if kind == "gpt2" else build_llama_tokenizer(corpus)
        tok.save(target)
        origin = "built"
    size = Tokenizer.from_file(target).get_vocab_size()
    special = ({"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}
               if kind == "gpt2" else {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
                                       "add_bos_token": True})
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 1024, **special}, f, indent=2)
    return origin, size


def save_model(config, dtype, folder):
    torch.manual_seed(0)
    start = time.perf_counter()
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model = model.to(dtype)
    params = sum(p.numel() for p in model.parameters())
    model.save_pretrained(folder)
    return params, time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--only", choices=["gpt2-small", "llama-150m"])
    ap.add_argument("--llama-dtype", choices=["float32", "bfloat16"], default="float32")
    ap.add_argument("--prompts", type=int, default=1024, help="how many prompts to write to prompts.json")
    ap.add_argument("--build-tokenizers", action="store_true",
                    help="build the tokenizers here even when the shared real ones exist")
    args = ap.parse_args()
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    os.makedirs(args.out_dir, exist_ok=True)

    prompts = make_prompts(args.prompts)
    with open(os.path.join(args.out_dir, "prompts.json"), "w", encoding="utf-8") as f:
        json.dump(prompts, f, ensure_ascii=False, indent=0)
    corpus = prompts + FALLBACK_NAMES

    summary = {"prompts": len(prompts)}
    if args.only in (None, "gpt2-small"):
        folder = os.path.join(args.out_dir, "gpt2-small")
        config = GPT2Config(vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12,
                            activation_function="gelu_new", tie_word_embeddings=True, use_cache=False,
                            bos_token_id=50256, eos_token_id=50256)
        params, seconds = save_model(config, torch.float32, folder)
        origin, size = write_tokenizer(folder, "gpt2", corpus, args.build_tokenizers)
        summary["gpt2-small"] = {"params": params, "dtype": "float32", "tokenizer": origin, "tokenizer_vocab": size,
                                 "seconds": round(seconds, 1)}
    if args.only in (None, "llama-150m"):
        folder = os.path.join(args.out_dir, "llama-150m")
        config = LlamaConfig(vocab_size=32000, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                             num_attention_heads=12, num_key_value_heads=4, max_position_embeddings=2048,
                             rms_norm_eps=1e-5, rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
                             tie_word_embeddings=False, use_cache=False, bos_token_id=1, eos_token_id=2)
        config.dtype = args.llama_dtype
        params, seconds = save_model(config, getattr(torch, args.llama_dtype), folder)
        origin, size = write_tokenizer(folder, "llama", corpus, args.build_tokenizers)
        summary["llama-150m"] = {"params": params, "dtype": args.llama_dtype, "tokenizer": origin,
                                 "tokenizer_vocab": size, "seconds": round(seconds, 1)}
    for name in ("gpt2-small", "llama-150m"):
        folder = os.path.join(args.out_dir, name)
        if name in summary:
            summary[name]["bytes"] = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder)
                                         if f.endswith(".safetensors"))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
