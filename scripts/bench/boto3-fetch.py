"""boto3's credential fetch, timed: N fresh resolutions that each go to the source (what every
boto3 call does in a window's last 10 minutes).

  BENCH_MODE=endpoint  botocore's ContainerProvider (AWS_CONTAINER_CREDENTIALS_FULL_URI + token)
  BENCH_MODE=process   botocore's ProcessProvider running BENCH_CREDENTIAL_PROCESS
Prints one JSON line: {"mode", "n", "totalS", "p50Ms", "p99Ms", "botocore"}.
"""
import json
import os
import time

import botocore
from botocore.credentials import ContainerProvider, ProcessProvider

mode = os.environ["BENCH_MODE"]
n = int(os.environ["BENCH_N"])
command = os.environ.get("BENCH_CREDENTIAL_PROCESS", "")
config = {"profiles": {"bench": {"credential_process": command}}}


def fetch():
    if mode == "endpoint":
        creds = ContainerProvider(environ=os.environ).load()
    else:
        creds = ProcessProvider("bench", load_config=lambda: config).load()
    if creds is None:
        raise SystemExit(f"{mode}: botocore found no credentials")
    frozen = creds.get_frozen_credentials()
    if not frozen.access_key or not frozen.token:
        raise SystemExit(f"{mode}: incomplete credentials")


fetch()  # warm-up: imports and the first connection are not part of the tail cost
times = []
start = time.perf_counter()
for _ in range(n):
    t = time.perf_counter()
    fetch()
    times.append(time.perf_counter() - t)
total = time.perf_counter() - start
times.sort()
print(json.dumps({
    "mode": mode,
    "n": n,
    "totalS": total,
    "p50Ms": times[len(times) // 2] * 1000,
    "p99Ms": times[min(len(times) - 1, int(len(times) * 0.99))] * 1000,
    "botocore": botocore.__version__,
}))
