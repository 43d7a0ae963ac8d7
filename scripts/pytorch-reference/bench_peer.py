"""What every PyTorch bench peer shares: time a `step` function, and answer the bench's rounds.
The bench starts a peer once and sends one line per round, "<steps> <threads>"; the peer answers each
with "<steps per second> <steps per CPU second>" after a warm-up (200 steps unless the peer says fewer). Run by hand (a terminal,
or thread counts as arguments), a peer prints a few rounds instead."""
import sys, time
import torch


def steps_per_second(step, steps, threads, warmup=200):
  """Steps per second of wall time and per second of this process's CPU time (all its threads)."""
  torch.set_num_threads(threads)
  for _ in range(warmup): step()
  start, cpu = time.time(), time.process_time()
  for _ in range(steps): step()
  return steps / (time.time() - start), steps / (time.process_time() - cpu)


def serve(step, steps_by_hand, warmup=200):
  if sys.stdin.isatty() or len(sys.argv) > 1:
    for threads in [int(a) for a in sys.argv[1:]] or [1, 2]:
      wall, cpu = steps_per_second(step, steps_by_hand, threads, warmup)
      print(f"torch {torch.__version__} threads {threads}: {wall:.3g} steps/s, {cpu:.3g} per CPU second", flush=True)
  else:
    print(f"ready {torch.__version__}", flush=True)
    for line in sys.stdin:
      steps, threads = (int(x) for x in line.split())
      print("%.2f %.2f" % steps_per_second(step, steps, threads, warmup), flush=True)
