"""Benchmark the pollers: latency from send to handler start, and SQS → Lambda throughput.

Run with `.venv/bin/python benchmarks/pollers.py [--messages 10000]`. It prints a small table:
- send → handler start (median and p95 over 200 single messages, measured from before the
  `send_message` call, so it includes boto3's own time);
- SQS → Lambda throughput with a trivial handler against a bare loop doing the same moto
  ReceiveMessage / DeleteMessageBatch calls on a queue with the same messages (ratio ≥ 0.8 is the
  target): the median of 5 alternating rounds, each started from a collected heap. The target is
  read on AWS timing: a run lasts about 0.2 s, and for its first minute AWS reads a new backlog
  with five concurrent batches. On the classroom clock the same 0.2 s is over three AWS minutes, so the
  mapping's ramp (300 more batches per minute) may open more batches after 60 ms; each then holds
  ten messages in flight, which moto's O(depth) receive scans on every call. That ratio is printed
  too, with the environments used.
- a long run (10,000 messages by default): wall time and peak traced memory (tracemalloc).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import threading
import time
import tracemalloc

import boto3
from moto.sqs.models import sqs_backends

from localcloud import Cloud

BATCH = 10


def fill(cloud: Cloud, name: str, count: int) -> str:
    """A queue holding `count` messages (filled through moto directly: setup is not measured)."""
    url = boto3.client("sqs").create_queue(QueueName=name)["QueueUrl"]
    backend = sqs_backends[cloud.account_id][cloud.region]
    for i in range(count):
        backend.send_message(name, f'{{"n": {i}}}')
    return url


def arn(url: str) -> str:
    return boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def latency(samples: int = 200) -> tuple[float, float]:
    with Cloud() as cloud:
        started: list[float] = []
        ready = threading.Event()

        def handler(event, context):
            started.append(time.perf_counter())
            ready.set()

        cloud.function("bench-latency", handler)
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="latency")["QueueUrl"]
        boto3.client("lambda").create_event_source_mapping(EventSourceArn=arn(url), FunctionName="bench-latency",
                                                           BatchSize=1)
        gaps = []
        for i in range(samples + 5):
            ready.clear()
            before = time.perf_counter()
            sqs.send_message(QueueUrl=url, MessageBody=str(i))
            ready.wait(5)
            if i >= 5:  # the first few warm up the environment and moto's code paths
                gaps.append((started[-1] - before) * 1000)
            cloud.wait()
        gaps.sort()
        return statistics.median(gaps), gaps[int(len(gaps) * 0.95)]


def bare_loop(cloud: Cloud, count: int, name: str = "bare") -> float:
    fill(cloud, name, count)
    backend = sqs_backends[cloud.account_id][cloud.region]
    gc.collect()  # both sides start from a collected heap: a full collection left over from setup is noise
    start = time.perf_counter()
    done = 0
    while done < count:
        messages = backend.receive_message(name, BATCH, 0, 30, ["All"])
        backend.delete_message_batch(name, [{"Id": str(i), "ReceiptHandle": m.receipt_handle}
                                            for i, m in enumerate(messages)])
        done += len(messages)
    return time.perf_counter() - start


def through_lambda(cloud: Cloud, count: int, name: str = "polled") -> tuple[float, int]:
    """Seconds from creating the mapping to the last batch done, and the environments it used."""
    handled = [0]

    def handler(event, context):
        handled[0] += len(event["Records"])

    cloud.function(f"bench-{name}", handler)
    url = fill(cloud, name, count)
    source, lambda_client = arn(url), boto3.client("lambda")  # setup: a client costs ~3 ms to build
    gc.collect()
    start = time.perf_counter()
    lambda_client.create_event_source_mapping(EventSourceArn=source, FunctionName=f"bench-{name}", BatchSize=BATCH)
    cloud.wait(timeout=600)
    elapsed = time.perf_counter() - start
    assert handled[0] == count, f"handled {handled[0]} of {count}"
    return elapsed, cloud.runtime.get(f"bench-{name}").created


def throughput(count: int, rounds: int = 5, timing: str = "classroom") -> tuple[float, float, int]:
    """Medians of alternating rounds (bare s, poller s, environments), after a warm-up of both."""
    bare_times, polled_times, environments = [], [], []
    with Cloud(timing=timing) as cloud:
        through_lambda(cloud, 500, "warm-up")
        bare_loop(cloud, 500, "warm-up-bare")
        for i in range(rounds):
            bare_times.append(bare_loop(cloud, count, f"bare-{i}"))
            elapsed, used = through_lambda(cloud, count, f"polled-{i}")
            polled_times.append(elapsed)
            environments.append(used)
    return statistics.median(bare_times), statistics.median(polled_times), int(statistics.median(environments))


def long_run(count: int) -> tuple[float, float, float]:
    with Cloud() as cloud:
        through_lambda(cloud, 500, "warm-up")
        elapsed, _ = through_lambda(cloud, count)
    with Cloud() as cloud:
        through_lambda(cloud, 500, "warm-up")
        tracemalloc.start()
        traced, _ = through_lambda(cloud, count)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return elapsed, traced, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000, help="messages in the long run")
    parser.add_argument("--compare", type=int, default=2_000, help="messages in the throughput comparison")
    args = parser.parse_args()

    median, p95 = latency()
    bare, polled, environments = throughput(args.compare, timing="aws")
    ramp_bare, ramp_polled, ramp_environments = throughput(args.compare)
    elapsed, traced, peak_mb = long_run(args.messages)
    rows = [
        ("send → handler start, median", f"{median:.2f} ms", "target < 10 ms"),
        ("send → handler start, p95", f"{p95:.2f} ms", ""),
        (f"bare moto receive/delete loop, {args.compare} msgs", f"{bare:.2f} s", f"{args.compare / bare:,.0f} msg/s"),
        (f"SQS → Lambda poller, {args.compare} msgs", f"{polled:.2f} s",
         f"{args.compare / polled:,.0f} msg/s, {environments} environments"),
        ("throughput ratio (bare time / poller time)", f"{bare / polled:.2f}", "target ≥ 0.8 (median of 5)"),
        ("  same on the classroom clock (ramp after 60 ms)", f"{ramp_bare / ramp_polled:.2f}",
         f"{ramp_environments} environments (median)"),
        (f"long run, {args.messages} msgs", f"{elapsed:.2f} s", f"{args.messages / elapsed:,.0f} msg/s"),
        (f"long run under tracemalloc, {args.messages} msgs", f"{traced:.2f} s", f"peak {peak_mb:.1f} MiB"),
    ]
    width = max(len(r[0]) for r in rows)
    for label, value, note in rows:
        print(f"{label.ljust(width)}  {value:>10}  {note}")


if __name__ == "__main__":
    main()
