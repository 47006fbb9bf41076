"""Event-driven contrastive divergence (Neftci et al. 2014) on sklearn's 8x8 digits.

Trains ``learning.event_cd.EventCDRBM`` (64 visible LIF units, ``--hidden`` hidden LIF units) with
the two-phase symmetric STDP rule, then reads out its hidden layer on held-out digits two ways:
labels assigned to the hidden neurons by their mean response (``learning.assign``), and a
logistic-regression readout on the hidden spike counts. The same readouts on the untrained network
(its random initial weights) are printed beside them, so the figure shows what the learning adds.
With ``--labels`` a second network is trained with 10 x 4 label units clamped beside the image
(Neftci et al. 2014's set-up) and classifies by its free label units' spike counts.

    PYTHONPATH=src python bench/event_cd_digits.py [--labels]   # 1-3 minutes on 1 CPU core
"""

from __future__ import annotations

import argparse
import time

import torch


def logistic_readout(train_x, train_y, test_x, test_y, epochs=300, lr=0.05, seed=0):
    """Softmax regression (full-batch Adam) on standardised features; returns the test accuracy."""
    mean, std = train_x.mean(0), train_x.std(0).clamp_min(1e-6)
    a, b = (train_x - mean) / std, (test_x - mean) / std
    torch.manual_seed(seed)
    lin = torch.nn.Linear(a.shape[1], int(train_y.max()) + 1)
    opt = torch.optim.Adam(lin.parameters(), lr=lr, weight_decay=1e-4)
    for _ in range(epochs):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(lin(a), train_y).backward()
        opt.step()
    with torch.no_grad():
        return float((lin(b).argmax(1) == test_y).float().mean())


def assigned_accuracy(train_c, train_y, test_c, test_y):
    from spikesmith.learning import ResponseAssigner, classify

    acc = ResponseAssigner(train_c.shape[1], 10)
    acc.add(train_c, train_y)
    pred = classify(test_c, acc.assign(), 10)
    return float((pred == test_y).float().mean())


def readouts(rbm, x_tr, y_tr, x_te, y_te):
    c_tr, c_te = rbm.hidden_counts(x_tr), rbm.hidden_counts(x_te)
    return assigned_accuracy(c_tr, y_tr, c_te, y_te), logistic_readout(c_tr, y_tr, c_te, y_te)


def main(argv=None):
    from sklearn.datasets import load_digits

    from spikesmith.learning.event_cd import EventCDRBM

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=100)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--labels", action="store_true", help="also train a network with label units")
    p.add_argument("--label-lr", type=float, default=0.005)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target, dtype=torch.long)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(args.seed))
    tr, te = order[:1300], order[1300:]
    x_tr, y_tr, x_te, y_te = x[tr], y[tr], x[te], y[te]

    rbm = EventCDRBM(64, args.hidden, seed=args.seed)
    start = time.time()
    before = readouts(rbm, x_tr, y_tr, x_te, y_te)
    t0 = time.time()
    history = rbm.fit(x_tr, epochs=args.epochs, batch_size=args.batch_size, progress=True)
    train_s = time.time() - t0
    after = readouts(rbm, x_tr, y_tr, x_te, y_te)
    first, last = history[0], history[-1]
    print(f"event-driven CD, digits 8x8: 64 -> {args.hidden} LIF, {args.epochs} epochs, batch {args.batch_size}, "
          f"{len(x_tr)} train / {len(x_te)} test")
    print(f"reconstruction error (phase 2 rates vs data): first batch {first.reconstruction_error:.4f}, "
          f"last {last.reconstruction_error:.4f}; hidden rate data/model {last.data_hidden_rate:.3f}/"
          f"{last.model_hidden_rate:.3f} spikes/step")
    print(f"test accuracy, labels assigned on the hidden layer: {after[0]:.4f} (untrained {before[0]:.4f})")
    print(f"test accuracy, logistic readout on hidden counts:  {after[1]:.4f} (untrained {before[1]:.4f})")
    print(f"training {train_s:.1f} s, total {time.time() - start:.1f} s")
    if args.labels:
        labelled = EventCDRBM(64, args.hidden, n_classes=10, label_copies=4, seed=args.seed, lr=args.label_lr)
        t0 = time.time()
        labelled.fit(x_tr, y_tr, epochs=args.epochs, batch_size=args.batch_size, progress=True)
        fit_s = time.time() - t0
        accs = [float((labelled.classify(x_te, steps=steps) == y_te).float().mean()) for steps in (50, 200)]
        print(f"test accuracy, free label units (10 x 4), lr {args.label_lr}: {accs[0]:.4f} over 50 steps, "
              f"{accs[1]:.4f} over 200 steps (training {fit_s:.1f} s)")


if __name__ == "__main__":
    main()
