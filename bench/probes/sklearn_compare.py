#!/usr/bin/python3
"""scikit-learn side of the probe parity check and benchmark.

For every layer_XXX.npy in a folder (with targets.npy and, if present, is_test.npy beside it) fit
RidgeCV(alphas=np.logspace(0.8, 4.1, 12), fit_intercept=True) on the training rows with targets standardised by
the training split's mean and standard deviation (ddof 0), exactly as Spacetime Probe's fitLayerProbe does, and
print one JSON document: chosen alpha, leave-one-out MSE per alpha, train/test R² per target and their means,
and the fit time of each layer. Layers are loaded one at a time.

Run with an interpreter that has scikit-learn (Debian's /usr/bin/python3 with python3-sklearn, or a venv):
    /usr/bin/python3 bench/probes/sklearn_compare.py DIR [--no-loo] [--layers N] > DIR/sklearn.json
Without is_test.npy the split is a NumPy-seeded random 20% test split (only the benchmark uses that).
"""
import glob
import json
import os
import resource
import sys
import time

import numpy as np
import sklearn
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score


# scikit-learn 1.5 renamed store_cv_values / cv_values_ to store_cv_results / cv_results_ (1.7 removed the old names).
STORE_LOO = 'store_cv_results' if 'store_cv_results' in RidgeCV().get_params() else 'store_cv_values'


def main(argv):
    folder = argv[1]
    store_loo = '--no-loo' not in argv
    max_layers = int(argv[argv.index('--layers') + 1]) if '--layers' in argv else None
    alphas = np.logspace(0.8, 4.1, 12)
    targets = np.load(os.path.join(folder, 'targets.npy')).astype(np.float64)
    if targets.ndim == 1:
        targets = targets[:, None]
    n_samples = targets.shape[0]
    test_path = os.path.join(folder, 'is_test.npy')
    if os.path.exists(test_path):
        is_test = np.load(test_path).astype(bool)
    else:
        is_test = np.zeros(n_samples, dtype=bool)
        is_test[np.random.default_rng(0).permutation(n_samples)[: round(0.2 * n_samples)]] = True
    train, test = ~is_test, is_test
    mean = targets[train].mean(axis=0)
    std = targets[train].std(axis=0)
    y_train = (targets[train] - mean) / std

    layers = []
    for path in sorted(glob.glob(os.path.join(folder, 'layer_*.npy')))[:max_layers]:
        x = np.load(path)
        started = time.perf_counter()
        model = RidgeCV(alphas=alphas, fit_intercept=True, **{STORE_LOO: store_loo}).fit(x[train], y_train)
        seconds = time.perf_counter() - started
        predicted = model.predict(x) * std + mean
        alpha_index = int(np.flatnonzero(alphas == model.alpha_)[0])
        entry = {
            'layer': os.path.basename(path),
            'alpha': float(model.alpha_),
            'alpha_index': alpha_index,
            'train_r2_per_target': r2_score(targets[train], predicted[train], multioutput='raw_values').tolist(),
            'test_r2_per_target': r2_score(targets[test], predicted[test], multioutput='raw_values').tolist(),
            'fit_seconds': seconds,
        }
        entry['train_r2'] = float(np.mean(entry['train_r2_per_target']))
        entry['test_r2'] = float(np.mean(entry['test_r2_per_target']))
        if store_loo:
            cv = getattr(model, STORE_LOO.replace('store_', '') + '_').reshape(x[train].shape[0], -1, len(alphas))
            entry['loo_mse'] = [float(cv[:, :, i].mean()) for i in range(len(alphas))]
        layers.append(entry)
        del x, model

    json.dump({
        'command': '/usr/bin/python3 bench/probes/sklearn_compare.py ' + ' '.join(argv[1:]),
        'sklearn': sklearn.__version__,
        'numpy': np.__version__,
        'alphas': alphas.tolist(),
        'n_train': int(train.sum()),
        'n_test': int(test.sum()),
        'layers': layers,
        'max_rss_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }, sys.stdout, indent=1)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main(sys.argv)
