"""Issue 2's performance targets, measured in one run on this machine (ratios, not absolute bars).

    python benchmarks/runtime.py
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

STARTUP = (
    "import time; t = time.perf_counter()\n"
    "from localcloud import Cloud\n"
    "cloud = Cloud()\n"
    "cloud.function('hello', lambda event, context: 'hi').invoke({})\n"
    "print(time.perf_counter() - t)\n"
)


def startup_seconds(runs: int = 3) -> float:
    times = [float(subprocess.run([sys.executable, "-c", STARTUP], capture_output=True, text=True,
                                  check=True).stdout) for _ in range(runs)]
    return statistics.median(times)


def per_call(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def main() -> None:
    from localcloud import Cloud

    rows = []
    rows.append(("fresh process: import + Cloud() + first invocation", f"{startup_seconds():.3f} s", "< 1.0 s"))
    with Cloud() as cloud:
        def handler(event, context):
            return {"ok": True}

        fn = cloud.function("bench", handler)
        fn.invoke({})
        direct = per_call(lambda: handler({}, None), 20000)
        warm = min(per_call(lambda: fn.invoke({}), 2000) for _ in range(3))
        rows.append(("warm direct invoke overhead over calling the function",
                     f"{(warm - direct) * 1e6:.0f} µs", "< 100 µs"))
        lam, sqs = cloud.client("lambda"), cloud.client("sqs")
        sqs.create_queue(QueueName="q")
        boto_invoke = min(per_call(lambda: lam.invoke(FunctionName="bench", Payload=b"{}"), 300) for _ in range(3))
        bare = min(per_call(lambda: sqs.get_queue_url(QueueName="q"), 300) for _ in range(3))
        rows.append(("boto3 lambda.invoke / bare moto call (sqs.get_queue_url)",
                     f"{boto_invoke / bare:.2f}× ({boto_invoke * 1e3:.2f} ms / {bare * 1e3:.2f} ms)", "≤ 2×"))
        sns = cloud.client("sns")
        topic = sns.create_topic(Name="t")["TopicArn"]
        starts: list[float] = []
        subscriber = cloud.function("sub", lambda e, c: starts.append(time.perf_counter()))
        sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=subscriber.arn)
        latencies = []
        for i in range(200):
            sent = time.perf_counter()
            sns.publish(TopicArn=topic, Message=json.dumps({"i": i}))
            cloud.wait()
            latencies.append((starts[-1] - sent) * 1e3)
        rows.append(("SNS publish → handler start, median", f"{statistics.median(latencies):.2f} ms", "< 5 ms"))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  {'result':<34} target")
    for name, value, target in rows:
        print(f"{name.ljust(width)}  {value:<34} {target}")


if __name__ == "__main__":
    main()
