"""``python -m nncore train|check``: the command line (bad input: one line, exit code 2)."""

from __future__ import annotations

import argparse
import sys
import time

from . import __version__, outputs
from . import plan as plan_io
from .activations import ACTIVATIONS, OUTPUT_ACTIVATIONS
from .data import DATASETS
from .errors import NNCoreError
from .limits import MAX_WORK
from .presets import PRESETS, describe, make_plan, parse_floats, parse_ints, parse_show, settings_for
from .timeline import FITS, Timing


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, no usage dump
        self.exit(2, f"{self.prog}: error: {message}\n")


def add_training_options(p: argparse.ArgumentParser) -> None:
    """The training and timing options (shared with the Blender command line)."""
    p.add_argument("--preset", help=f"one of {', '.join(PRESETS)} (default article)")
    p.add_argument("--layers", help="layer sizes, inputs first, e.g. 3,4,1")
    p.add_argument("--activation", choices=ACTIVATIONS, help="hidden-layer activation")
    p.add_argument("--bias", action=argparse.BooleanOptionalAction, default=None, help="biases on or off")
    p.add_argument(
        "--output-activation",
        choices=OUTPUT_ACTIVATIONS,
        help="output-layer activation (default: as the hidden layers; softmax goes with cross-entropy)",
    )
    p.add_argument("--dataset", choices=DATASETS + ("csv",), help="built-in training data")
    p.add_argument("--csv", metavar="PATH", help="training data: input columns then target columns")
    p.add_argument("--target-column", metavar="NAME", help="CSV header name of the class column (0..N-1)")
    p.add_argument("--classes", type=int, metavar="N", help="the CSV's last column holds class indices 0..N-1")
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--batch", type=int, help="examples per update: 1 online, 0 full batch")
    p.add_argument("--cycles", type=int, help="training cycles (epochs)")
    p.add_argument("--seed", type=int, help="seed of the weights' random generator")
    p.add_argument("--show", help="shown cycles: a count (spaced, denser early) or a list 2,10,100")
    p.add_argument("--examples-shown", type=int, help="examples shown per shown cycle (default 10)")
    p.add_argument("--fps", type=int, help="frames per second of the timeline (default 24)")
    p.add_argument("--forward-seconds", type=float, help="seconds per forward pass (default 0.5)")
    p.add_argument("--backward-seconds", type=float, help="seconds per backward pass (default 0.5)")
    p.add_argument("--hold-seconds", type=float, help="seconds to hold each example (default 0.25)")
    p.add_argument("--state-seconds", type=float, help="seconds for before/after/new-situation (default 2)")
    p.add_argument("--query", help="inputs of the new situation, e.g. 1,1,0")
    p.add_argument(
        "--duration",
        type=float,
        metavar="SECONDS",
        help="make the timeline last exactly this long (to one frame), e.g. the length of your music",
    )
    p.add_argument(
        "--fit",
        choices=FITS,
        help="how --duration is met: pace stretches every phase (default), cycles chooses how many cycles are shown",
    )
    p.add_argument(
        "--max-work",
        type=float,
        metavar="N",
        help=f"training budget in weight updates, cycles x examples x parameters (default {MAX_WORK:.0e})",
    )


#: The destinations of add_training_options: all None when not given on the command line.
TRAINING_OPTIONS = (
    "preset",
    "layers",
    "activation",
    "bias",
    "output_activation",
    "dataset",
    "csv",
    "target_column",
    "classes",
    "lr",
    "batch",
    "cycles",
    "seed",
    "show",
    "examples_shown",
    "fps",
    "forward_seconds",
    "backward_seconds",
    "hold_seconds",
    "state_seconds",
    "query",
    "duration",
    "fit",
    "max_work",
)


def training_options_given(a: argparse.Namespace) -> list[str]:
    """The training and timing options given on the command line, as ``--name``: for a caller that
    builds from a plan instead, where they would be silently ignored (``build --plan P --fps 12``)."""
    return [f"--{d.replace('_', '-')}" for d in TRAINING_OPTIONS if getattr(a, d, None) is not None]


def settings_from_args(a: argparse.Namespace):
    """Settings from parsed options (the preset's values where an option is not given)."""
    t = Timing()
    timing = Timing(
        a.fps if a.fps is not None else t.fps,
        a.forward_seconds if a.forward_seconds is not None else t.forward_seconds,
        a.backward_seconds if a.backward_seconds is not None else t.backward_seconds,
        a.hold_seconds if a.hold_seconds is not None else t.hold_seconds,
        a.state_seconds if a.state_seconds is not None else t.state_seconds,
    )
    if a.csv is not None and not a.csv.strip():
        raise NNCoreError("--csv: no file name given")
    if a.csv is not None and a.dataset not in (None, "csv"):
        raise NNCoreError(f"--dataset {a.dataset} contradicts --csv (a CSV file is the csv dataset; give one)")
    if a.max_work is not None and not a.max_work > 0:
        raise NNCoreError(f"--max-work: must be a positive number, got {a.max_work:g}")
    if a.classes is not None and a.classes < 2:
        raise NNCoreError(f"--classes: need at least 2 classes, got {a.classes}")
    if a.target_column is not None and not a.target_column.strip():
        raise NNCoreError("--target-column: no column name given")
    if a.fit is not None and a.duration is None:
        raise NNCoreError(f"--fit {a.fit}: only with --duration")
    return settings_for(
        a.preset if a.preset is not None else "article",
        layers=parse_ints(a.layers, "layers") if a.layers is not None else None,
        activation=a.activation,
        bias=a.bias,
        output_activation=a.output_activation,
        dataset=a.dataset,
        csv=a.csv,
        target_column=a.target_column,
        classes=a.classes,
        learning_rate=a.lr,
        batch=a.batch,
        cycles=a.cycles,
        seed=a.seed,
        show=parse_show(a.show) if a.show is not None else None,
        examples_shown=a.examples_shown,
        timing=timing,
        query=parse_floats(a.query, "query") if a.query is not None else None,
        max_work=a.max_work,
        duration=a.duration,
        fit=a.fit,
    )


class Progress:
    """A progress line on stdout (stderr is for errors): in place on a terminal, every 10% otherwise."""

    def __init__(self, label: str, stream=None) -> None:
        stream = stream or sys.stdout
        self.label, self.stream = label, stream
        self.tty = stream.isatty()
        self.t0 = time.perf_counter()
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        pct = int(100 * done / max(total, 1))
        if not self.tty and pct // 10 == self.last // 10 and done < total:
            return
        self.last = pct
        line = f"{self.label}: cycle {done:,} of {total:,} ({pct}%, {time.perf_counter() - self.t0:.1f} s)"
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        if self.tty and done >= total:
            self.stream.write("\n")
        self.stream.flush()


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="nncore", description="Train a small network and write its keyframe plan.")
    parser.add_argument("--version", action="version", version=f"nncore {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    tr = sub.add_parser("train", help="train and write a keyframe plan")
    add_training_options(tr)
    tr.add_argument("--out", required=True, metavar="PLAN.json", help="where to write the plan")
    tr.add_argument("--quiet", action="store_true", help="no progress line")
    ck = sub.add_parser("check", help="validate a plan file")
    ck.add_argument("plan", metavar="PLAN.json")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            p = plan_io.load(args.plan)
            print(
                f"{outputs.printable(args.plan, 300)}: valid plan, schema {p['schema_version']}, "
                f"layers {p['network']['layers']}, "
                f"frames {p['timing']['frame_start']}-{p['timing']['frame_end']}; {outputs.printable(describe(p), 300)}"
            )
            return 0
        s = settings_from_args(args)
        out = outputs.check_file(args.out, "output")  # before any training
        plan = make_plan(s, progress=None if args.quiet else Progress("training"))
        plan_io.save(plan, out, "output")
        print(
            f"{outputs.printable(describe(plan), 300)}; wrote {outputs.printable(out, 300)} "
            f"({plan['timing']['frame_end']:,} frames at {plan['timing']['fps']} fps)"
        )
        return 0
    except NNCoreError as exc:
        print(f"nncore: error: {outputs.printable(exc, 500)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nncore: interrupted", file=sys.stderr)
        return 130
