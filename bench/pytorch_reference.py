"""PyTorch baseline for bench/reference.ts: trains the issue's reference CNN
(conv32-pool-conv64-pool-dense128-dense10 on 28x28x1, batch 64, Adam) on random data and prints
one JSON line per thread count. Run by bench/reference.ts; needs Debian's python3-torch."""
import json
import sys
import time

import torch
import torch.nn as nn


def model():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def measure(threads, seconds, batch):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    net = model()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()

    for _ in range(5):
        step()
    steps = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    while time.perf_counter() - wall0 < seconds:
        step()
        steps += 1
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {
        "bench": "reference", "framework": "pytorch", "version": torch.__version__, "model": "reference-cnn",
        "mode": "train", "threads": threads, "batch": batch, "steps": steps,
        "imagesPerSec": round(steps * batch / wall, 1), "wallSeconds": round(wall, 3), "cpuSeconds": round(cpu, 3),
    }


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    threads = [int(t) for t in (sys.argv[2] if len(sys.argv) > 2 else "1,2").split(",")]
    for t in threads:
        print(json.dumps(measure(t, seconds, 64)), flush=True)
