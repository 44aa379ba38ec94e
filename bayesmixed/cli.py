"""The ``bayesmixed`` command.

``bayesmixed fit models/sleepstudy.toml --out DIR`` fits a model file, prints the summary (and the
comparison with its reference estimates) and writes ``DIR/summary.txt``, ``DIR/posterior.nc`` and plots.
``bayesmixed fit --formula "y ~ x + (1 | g)" --data file.csv [--family poisson]`` fits a formula on a CSV.
``bayesmixed datasets`` lists the shipped data sets.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bayesmixed", description="Bayesian mixed-effects models from lme4 formulas")
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fit", help="fit a model file or a formula on a CSV file")
    f.add_argument("model_file", nargs="?", help="a model TOML file (see models/)")
    f.add_argument("--formula", help="lme4 formula (instead of a model file)")
    f.add_argument("--data", help="CSV file or shipped data set name (with --formula)")
    f.add_argument("--family", default=None, help="response family (default gaussian)")
    f.add_argument("--link", default=None)
    f.add_argument("--out", default=None,
                   help="output folder for summary.txt, posterior.nc (ArviZ), fit.bmfit (bm.load) and plots")
    f.add_argument("--draws", type=int, default=None)
    f.add_argument("--tune", type=int, default=None)
    f.add_argument("--chains", type=int, default=None)
    f.add_argument("--seed", type=int, default=None)
    f.add_argument("--sampler", default=None, help="auto (default), nutpie, pymc, numpyro")
    f.add_argument("--no-plots", action="store_true", help="do not write plots")
    f.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.add_parser("datasets", help="list the shipped data sets")
    return p


def _fit_command(args: argparse.Namespace) -> int:

    from . import datasets
    from .model import Model
    from .errors import DataError
    from .modelfile import load_model_file, read_csv, reference_table

    if args.model_file and args.formula:
        raise SystemExit("give either a model file or --formula/--data, not both")
    reference = {}
    fit_opts: dict = {}
    if args.model_file:
        mf = load_model_file(args.model_file)
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            model = mf.model()
        reference = mf.reference
        fit_opts.update(mf.fit)
        title = mf.name
    elif args.formula and args.data:
        data = datasets.load(args.data) if args.data in datasets.names() else read_csv(Path(args.data), DataError)
        model = Model(args.formula, data, family=args.family or "gaussian", link=args.link)
        title = Path(args.data).stem
    else:
        raise SystemExit("bayesmixed fit: give a model file, or --formula and --data")
    for k in ("draws", "tune", "chains", "seed", "sampler"):
        v = getattr(args, k)
        if v is not None:
            fit_opts[k] = v
    fit_opts.setdefault("draws", 1000)
    fit_opts.setdefault("tune", 1000)
    fit_opts.setdefault("chains", 4)
    fit_opts.setdefault("seed", 1)
    print(f"Fitting {title}: {model.formula.text} ({model.spec.family}) ...", flush=True)
    try:
        fit = model.fit(progressbar=not args.quiet, **fit_opts)
    except KeyboardInterrupt:
        where = f" to {args.out}" if args.out else ""
        print(f"\ninterrupted during sampling; nothing was written{where}", file=sys.stderr)
        return 130
    text = str(fit.summary())
    if reference:
        tab = reference_table(fit, reference, prob=0.90)
        text += (
            f"\n\nAgreement with {reference.get('source', 'the reference')} (90% intervals):\n"
            + tab.drop(columns=["kind", "boundary"]).to_string(index=False, float_format=lambda v: f"{v:.4g}")
        )
    print(text)
    if args.out:
        from . import _arviz
        from .saveload import write_atomic

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        try:  # every file goes through a temporary file and os.replace: an interrupt leaves only whole files
            written.append(write_atomic(out / "summary.txt", lambda p: Path(p).write_text(text + "\n")))
            written.append(write_atomic(out / "posterior.nc", lambda p: _arviz.to_netcdf(fit.idata, p)))
            written.append(fit.save(out / "fit.bmfit"))  # the whole fit, for bm.load
            if not args.no_plots:
                try:
                    from .plots import save_all
                except ImportError:  # plots are optional
                    save_all = None
                if save_all is not None:
                    written += save_all(fit, out)
        except KeyboardInterrupt:
            done = ", ".join(p.name for p in written) or "nothing"
            print(f"\ninterrupted while writing to {out}; complete files written: {done} (no partial files)", file=sys.stderr)
            return 130
        print("\nwrote " + ", ".join(str(p) for p in written))
        print(f"load the fit in Python with: bm.load({str(out / 'fit.bmfit')!r})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bayesmixed`` command."""
    from .errors import BayesMixedError

    args = _parser().parse_args(argv)
    try:
        if args.command == "datasets":
            from . import datasets

            for n in datasets.names():
                print(n)
            return 0
        return _fit_command(args)
    except BayesMixedError as e:
        print(f"bayesmixed: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # e.g. an output folder that cannot be written
        print(f"bayesmixed: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - a bug, not a mistake of the user's: say so, without a traceback
        if os.environ.get("BAYESMIXED_DEBUG"):
            raise
        print(f"bayesmixed: internal error ({type(e).__name__}: {e}); please report it with the command you ran "
              "(BAYESMIXED_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
