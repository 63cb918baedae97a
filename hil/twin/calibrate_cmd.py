"""``devicetwin twin calibrate``: a twin file from a recording of the calibration protocol, or
from a session recorded under one programming.

The input is one of:

- a protocol recording (``*.json``, format ``devicetwin-protocol-recording``): every segment of
  :func:`devicetwin.twin.calibration_protocol.recording_protocol` with its programming and
  markers;
- an imported session (``twin import``'s folder or ``session.json``) recorded under the
  protocol, its segments back to back from time 0 (``--protocol-session`` says so);
- an imported session recorded under ONE programming (an interrogation, a bench run at the
  patient's programming): calibrated by :mod:`devicetwin.twin.calibration_session` under the
  session's own programming (a bench record's manifest gives it) or the one ``--mode`` and
  ``--set NAME=VALUE`` give (the same options as ``twin recommend``); what that programming
  cannot show stays at the prior, and the twin file says which parameters the data informed;
- ``preset:NAME`` or a condition file (``.toml``/``.json``): a synthetic patient, recorded first
  through the protocol on the cell-network heart (``--recording-out`` keeps that recording).

The twin file (:mod:`devicetwin.twin.twinfile`) gets the point condition, posterior samples,
the observed and predicted behaviour of the intrinsic segment, the calibration's figures and
posterior predictive checks (``analysis.calibration``), and the provenance.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from devicetwin import __version__
from devicetwin.heart.conditions import Condition, get_condition, load_condition
from devicetwin.pacemaker.parameters import PARAMETERS
from devicetwin.pacemaker.programming import Programming, value_to_plain
from devicetwin.twin import Posterior, Provenance, Twin, TwinError, save_twin
from devicetwin.twin.calibration import (
    BINARY_PRIORS,
    CONTINUOUS_PRIORS,
    Calibration,
    PosteriorFit,
    calibrate,
    cells_segment,
    fast_segment,
    prior_table,
    simulate_recording,
)
from devicetwin.twin.calibration_abc import AbcSettings, Batch, Mapper, PriorSample
from devicetwin.twin.calibration_protocol import (
    Recording,
    SegmentRecord,
    recording_from_dict,
    recording_protocol,
    recording_to_dict,
)
from devicetwin.twin.calibration_session import (
    Information,
    SessionCalibration,
    calibrate_session,
    session_summary_names,
)
from devicetwin.twin.calibration_summaries import summary_names
from devicetwin.twin.observed import BEHAVIOUR_UNITS, observed_behaviour
from devicetwin.twin.session import RecordedSession
from hil.errors import ConfigError
from hil.executor import Executor, check_scheduler
from hil.exitcodes import ExitCode
from hil.twin.recommend_cmd import programming_from_options
from hil.twin.store import load_session

HELP = ("calibrate a twin from a recording of the calibration protocol or a session under one "
        "programming (simulation-based inference over the fast heart)")
#: Simulated protocol length relative to the recording's, for calibration.
DEFAULT_SCALE = 0.5
#: ABC-SMC sizes by budget name. Generation 0 (``first_batch`` prior draws) is the cached prior
#: table when there is one (:func:`prior_sample`).
BUDGETS: dict[str, AbcSettings] = {
    "quick": AbcSettings(population=100, first_batch=1000, batch=300, generations=2),
    "standard": AbcSettings(population=200, first_batch=3000, batch=500, generations=3),
}
#: Where prior tables are kept between runs (not in git).
DEFAULT_PRIOR_CACHE = Path("build/twin-calibration")
#: Posterior samples kept in the twin file (drawn by weight).
TWIN_SAMPLES = 400
#: Posterior draws whose intrinsic segment gives the predicted behaviour.
PREDICTED_DRAWS = 10
PROTOCOL_FORMAT = "devicetwin-protocol-recording"
#: Seed of the prior table (generation 0).
PRIOR_SEED = 17


def _table_key(n: int, scale: float, seed: int) -> str:
    spec = {"priors": [[p.name, p.low, p.high, p.requires] for p in CONTINUOUS_PRIORS],
            "binary": [[p.name, p.p_true] for p in BINARY_PRIORS],
            "protocol": [[sg.name, sg.duration_us, repr(sg.programming)]
                         for sg in recording_protocol()],
            "summaries": list(summary_names()), "n": n, "scale": scale, "seed": seed,
            "version": __version__}
    return _sha(json.dumps(spec, sort_keys=True).encode())[:16]


def prior_sample(cache: Path | None, n: int, scale: float, seed: int,
                 mapper: Mapper | None) -> PriorSample:
    """Calibration's generation 0: ``n`` prior draws through the protocol on the fast heart,
    read from ``cache`` when a table of the same priors, protocol, summaries, size, scale, seed
    and devicetwin version is there, else simulated (and written there). Delete the cache after
    changing the fast heart."""
    path = None if cache is None else cache / f"prior-{_table_key(n, scale, seed)}.npz"
    if path is not None and path.exists():
        with np.load(path) as z:
            return PriorSample(z["continuous"], z["binary"], z["summaries"])
    table = prior_table(n, fast_segment, scale=scale, seed=seed, mapper=mapper, pieces=16)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.stem + ".tmp.npz")
        np.savez(tmp, continuous=table.continuous, binary=table.binary,
                 summaries=table.summaries)
        tmp.replace(path)
    return table


def abc_settings(budget: str) -> AbcSettings:
    """The ABC-SMC sizes of budget ``budget``."""
    try:
        return BUDGETS[budget]
    except KeyError:
        raise ConfigError(f"budget {budget!r} is not one of {sorted(BUDGETS)}", name="budget",
                          value=budget, expected=", ".join(sorted(BUDGETS)),
                          source="--budget") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``twin calibrate``."""
    parser.add_argument("source", help="a protocol recording (.json), an imported session "
                        "recorded under the protocol (with --protocol-session), or preset:NAME "
                        "/ a condition file to record a synthetic patient first")
    parser.add_argument("--out", type=Path, required=True, help="the twin file to write")
    parser.add_argument("--protocol-session", action="store_true",
                        help="the session was recorded under the calibration protocol, its "
                             "segments back to back")
    parser.add_argument("--mode", default=None,
                        help="a session under one programming: its mode, when the session does "
                             "not state it (nominal values unless --set)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a session under one programming: a parameter of its programming "
                             "(repeatable; on top of the session's own unless --mode)")
    parser.add_argument("--recording-out", type=Path, default=None,
                        help="with a synthetic patient: where to keep its protocol recording")
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="standard",
                        help="simulations: quick (1,000 prior + 300) or standard (3,000 prior + "
                             "1,000; default)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the inference (default 0)")
    parser.add_argument("--prior-cache", type=Path, default=DEFAULT_PRIOR_CACHE,
                        help="folder of cached prior tables (generation 0, the same for every "
                             f"patient; default {DEFAULT_PRIOR_CACHE})")
    parser.add_argument("--no-prior-cache", action="store_true",
                        help="simulate generation 0 afresh and keep nothing")
    parser.add_argument("--scheduler", default="synchronous",
                        help="'synchronous' (default: this process), a Dask scheduler "
                             "address, or 'local' for a local cluster")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes of a local cluster (default: one per core)")
    parser.add_argument("--json", action="store_true",
                        help="print the calibration's figures as JSON on the last line")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _condition(spec: str) -> Condition:
    try:
        if spec.startswith("preset:"):
            return get_condition(spec.removeprefix("preset:"))
        return load_condition(spec)
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot read condition {spec!r}: {err}", name="source", value=spec,
                          expected="preset:NAME or a .toml/.json condition file",
                          source="source") from None


def _session_recording(session: RecordedSession, source: str) -> Recording:
    """Cut a session recorded under the protocol into its segments."""
    segments = recording_protocol()
    total = sum(s.duration_us for s in segments)
    if session.duration_us < total * 0.99:
        raise ConfigError(f"{source}: the session lasts {session.duration_s:.1f} s, shorter "
                          f"than the protocol's {total / 1e6:.0f} s", name="duration_us",
                          value=session.duration_us, expected=f">= {total} us", source=source)
    out = []
    start = 0
    for seg in segments:
        end = start + seg.duration_us
        markers = tuple(type(m)(m.t_us - start, m.chamber, m.kind, m.amplitude_mv, m.width_us,
                                m.flags)
                        for m in session.markers if start <= m.t_us < end)
        out.append(SegmentRecord(seg, markers))
        start = end
    return Recording(tuple(out))


def read_source(args: argparse.Namespace) -> tuple[Recording, Provenance]:
    """The protocol recording behind ``args.source`` and its provenance."""
    spec = str(args.source)
    path = Path(spec)
    if spec.startswith("preset:") or path.suffix == ".toml" or (
            path.suffix == ".json" and path.is_file() and _format_of(path) not in
            (PROTOCOL_FORMAT, "devicetwin-session")):
        cond = _condition(spec)
        print(f"recording a synthetic patient through the protocol on the cell-network heart "
              f"(~{sum(s.duration_us for s in recording_protocol()) / 75e6:.0f} s)", flush=True)
        rec = simulate_recording(cond, recording_protocol(), args.seed, cells_segment)
        text = json.dumps(recording_to_dict(rec))
        if args.recording_out is not None:
            args.recording_out.parent.mkdir(parents=True, exist_ok=True)
            args.recording_out.write_text(text, encoding="utf-8")
            print(f"wrote {args.recording_out}")
        return rec, Provenance("bench", {"recording": _sha(text.encode())}, None, "per-import",
                               (), __version__, ("synthetic patient, cell-network heart",))
    if path.is_dir() or _format_of(path) == "devicetwin-session":
        if not args.protocol_session:
            raise ConfigError(
                f"{spec}: an imported session is calibrated only when it was recorded under the "
                "calibration protocol (pass --protocol-session); a session under one "
                "programming does not show the AV, Wenckebach and retrograde behaviour "
                "calibration needs (docs/twin.md)", name="source", value=spec,
                expected="a protocol recording, or --protocol-session", source="source")
        session, _ = load_session(path)
        return _session_recording(session, spec), session.provenance
    try:
        raw = path.read_bytes()
        doc = json.loads(raw)
    except OSError as err:
        raise ConfigError(f"cannot read {spec!r}: {err.strerror}", name="source", value=spec,
                          expected="a readable protocol recording", source="source") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"{spec}: not JSON ({err})", name="source", value=spec,
                          expected="a protocol recording (.json)", source="source") from None
    try:
        rec = recording_from_dict(doc, spec)
    except TwinError as err:
        raise ConfigError(str(err), name=err.name, value=err.value, expected=err.expected,
                          source=spec) from None
    return rec, Provenance("bench", {"recording": _sha(raw)}, None, "per-import", (),
                           __version__)


def _format_of(path: Path) -> object:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return doc.get("format") if isinstance(doc, dict) else None


def twin_from_calibration(cal: Calibration, recording: Recording, provenance: Provenance,
                          twin_id: str) -> Twin:
    """The twin file's content: point condition, posterior, behaviour, figures."""
    post = cal.posterior
    intrinsic = recording.segment("intrinsic")
    observed = observed_behaviour(intrinsic.markers, intrinsic.segment.duration_us)
    predicted = predicted_behaviour(cal, intrinsic.segment.programming,
                                    intrinsic.segment.duration_us)
    return Twin(
        twin_id=twin_id, condition=cal.condition, provenance=provenance, observed=observed,
        predicted=predicted,
        posterior=twin_posterior(cal, "ABC-SMC over the fast heart (devicetwin.twin."
                                 "calibration_abc: PMC-ABC with quantile tolerances and "
                                 f"regression adjustment), {post.simulations} simulations; "
                                 "retrograde as 0/1"),
        analysis={"calibration": cal.to_dict()})


def twin_posterior(cal: PosteriorFit, method: str) -> Posterior:
    """The twin file's posterior: :data:`TWIN_SAMPLES` draws by weight of every continuous
    parameter and of retrograde conduction (0/1)."""
    post = cal.posterior
    rng = np.random.default_rng(0)
    rows = rng.choice(len(post.weights), size=TWIN_SAMPLES, p=post.weights)
    names = (*(p.name for p in post.continuous_priors), "retrograde")
    retro = post.binary[:, [p.name for p in post.binary_priors].index("retrograde")]
    samples = np.column_stack((post.continuous[rows], retro[rows].astype(np.float64)))
    return Posterior(tuple(names), samples, method)


def predicted_behaviour(cal: PosteriorFit, programming: Programming, duration_us: int
                        ) -> dict[str, float | None]:
    """Median over posterior draws of the behaviour under ``programming`` for ``duration_us``
    on the fast heart."""
    values: dict[str, list[float]] = {k: [] for k in BEHAVIOUR_UNITS}
    for k, cond in enumerate(cal.posterior_samples(PREDICTED_DRAWS, seed=1)):
        markers = fast_segment(cond, programming, duration_us, 90_000 + k)
        for name, v in observed_behaviour(markers, duration_us).items():
            if v is not None:
                values[name].append(v)
    return {k: (statistics.median(v) if v else None) for k, v in values.items()}


def executor_mapper(ex: Executor) -> Mapper:
    """The executor's ``map_batched`` as a calibration ``map`` (one task per batch)."""
    def mapper(fn: Callable[[Batch], Any], items: Iterable[Batch]) -> list[Any]:
        return ex.map_batched(fn, list(items), batch_size=1)
    return mapper


def is_session_source(spec: str) -> bool:
    """True when ``spec`` names an imported session (a folder, or a ``devicetwin-session``
    JSON file)."""
    path = Path(spec)
    return not spec.startswith("preset:") and (
        path.is_dir() or (path.is_file() and _format_of(path) == "devicetwin-session"))


def plain_programming(programming: Programming) -> dict[str, Any]:
    """``{"mode", "parameters"}`` in plain units, every parameter (the twin's ``programming``)."""
    return {"mode": programming.mode.value,
            "parameters": {n: value_to_plain(programming.value(n)) for n in PARAMETERS
                           if n != "mode"}}


def session_programming(args: argparse.Namespace, session: RecordedSession) -> Programming:
    """The programming a session was recorded under: ``--mode``/``--set`` on top of the
    session's own (a bench record's manifest), which must exist when ``--mode`` is absent."""
    return programming_from_options(args.mode, args.set, session.programming,
                                    default_mode=None)


def twin_from_session(cal: SessionCalibration, session: RecordedSession,
                      twin_id: str) -> Twin:
    """The twin file's content from a session under one programming: the point condition, the
    posterior (its method names what the session informed and what stayed at the prior), the
    observed and predicted behaviour, the programming, the calibration's figures."""
    post = cal.posterior
    predicted = predicted_behaviour(cal, cal.programming, session.duration_us)
    informed = ", ".join(cal.informed) or "none"
    prior_only = ", ".join(cal.prior_only) or "none"
    method = (f"ABC-SMC over the fast heart under the session's one programming "
              f"({cal.programming.mode.value}; devicetwin.twin.calibration_session), "
              f"{post.simulations} simulations; informed by the session (90 % interval under "
              f"half the prior's): {informed}; at or near the prior (the session cannot show "
              f"them): {prior_only}; retrograde as 0/1")
    return Twin(
        twin_id=twin_id, condition=cal.condition, provenance=session.provenance,
        observed=observed_behaviour(session.markers, session.duration_us), predicted=predicted,
        posterior=twin_posterior(cal, method),
        programming=plain_programming(cal.programming),
        analysis={"calibration": cal.to_dict()})


def run_session(args: argparse.Namespace) -> int:
    """Calibrate from a session under one programming and write the twin file."""
    spec = str(args.source)
    scheduler = None if args.scheduler == "local" else check_scheduler(args.scheduler)
    settings = abc_settings(args.budget)
    try:
        session, _ = load_session(Path(spec))
    except ConfigError as err:
        raise ConfigError(f"cannot calibrate it: {err} (expected a session folder or "
                          "session.json written by 'devicetwin twin import', recorded under one "
                          "programming, or under the calibration protocol with "
                          "--protocol-session)", name=err.name, value=err.value,
                          expected=err.expected, source=spec) from None
    programming = session_programming(args, session)
    twin_id = "twin-" + _sha(json.dumps([session.session_id, plain_programming(programming)],
                                        default=str).encode())[:12]
    print(f"session {session.session_id}: {session.duration_s:.1f} s, {len(session.markers)} "
          f"device marker(s), calibrated under {programming.mode.value} "
          f"(what this programming cannot show stays at the prior)", flush=True)

    def progress(gen: int, tol: float) -> None:
        print(f"generation {gen + 1}/{settings.generations}: tolerance {tol:.3f}", flush=True)

    with Executor(scheduler, args.workers) as ex:
        mapper = None if scheduler == "synchronous" else executor_mapper(ex)
        try:
            cal = calibrate_session(session.markers, session.duration_us, programming,
                                    fast_segment, settings=settings, scale=DEFAULT_SCALE,
                                    seed=args.seed, mapper=mapper, progress=progress)
        except TwinError as err:
            raise ConfigError(str(err), name=err.name, value=err.value, expected=err.expected,
                              source=spec) from None
    path = save_twin(twin_from_session(cal, session, twin_id), args.out)
    odd = print_estimates(cal, cal.info)
    print(f"informed by the session: {', '.join(cal.informed) or 'none'}")
    print(f"at or near the prior: {', '.join(cal.prior_only) or 'none'}")
    print(f"calibrated in {cal.elapsed_s:.1f} s ({cal.posterior.simulations} simulations of "
          f"{cal.simulated_us / 1e6:.1f} s each)")
    print(f"wrote {path}")
    if args.json:
        print(json.dumps({"twin": str(path), "elapsed_s": round(cal.elapsed_s, 2),
                          "programming": plain_programming(programming),
                          "estimates": {e.name: e.to_dict() for e in cal.estimates},
                          "probabilities": dict(cal.probabilities),
                          "informed": list(cal.informed), "prior_only": list(cal.prior_only),
                          "summaries": list(session_summary_names()),
                          "inconsistent_summaries": odd}, default=str))
    return ExitCode.PASSED


def run(args: argparse.Namespace) -> int:
    """Calibrate and write the twin file."""
    session_source = is_session_source(str(args.source))
    if session_source and not args.protocol_session:
        return run_session(args)
    if args.mode is not None or args.set:
        raise ConfigError("--mode/--set give the programming of a session recorded under one "
                          "programming; a protocol recording or synthetic patient carries its "
                          "own", name="mode", value=args.mode or args.set,
                          expected="no --mode/--set here", source="--mode/--set")
    scheduler = None if args.scheduler == "local" else check_scheduler(args.scheduler)
    settings = abc_settings(args.budget)
    recording, provenance = read_source(args)
    twin_id = "twin-" + _sha(json.dumps(recording_to_dict(recording)).encode())[:12]

    def progress(gen: int, tol: float) -> None:
        print(f"generation {gen + 1}/{settings.generations}: tolerance {tol:.3f}", flush=True)

    with Executor(scheduler, args.workers) as ex:
        mapper = None if scheduler == "synchronous" else executor_mapper(ex)
        start = time.perf_counter()
        table = prior_sample(None if args.no_prior_cache else args.prior_cache,
                             settings.first_batch, DEFAULT_SCALE, PRIOR_SEED, mapper)
        table_s = time.perf_counter() - start
        print(f"prior table ({settings.first_batch} simulations): {table_s:.1f} s", flush=True)
        try:
            cal = calibrate(recording, fast_segment, settings=settings, scale=DEFAULT_SCALE,
                            seed=args.seed, mapper=mapper, prior_sample=table,
                            progress=progress)
        except TwinError as err:
            raise ConfigError(str(err), name=err.name, value=err.value, expected=err.expected,
                              source=str(args.source)) from None
    twin = twin_from_calibration(cal, recording, provenance, twin_id)
    path = save_twin(twin, args.out)
    odd = print_estimates(cal)
    print(f"calibrated in {cal.elapsed_s:.1f} s after the prior table "
          f"({cal.posterior.simulations} simulations; {cal.elapsed_s + table_s:.1f} s in all)")
    print(f"wrote {path}")
    if args.json:
        print(json.dumps({"twin": str(path), "elapsed_s": round(cal.elapsed_s, 2),
                          "prior_table_s": round(table_s, 2),
                          "estimates": {e.name: e.to_dict() for e in cal.estimates},
                          "probabilities": dict(cal.probabilities),
                          "inconsistent_summaries": odd}))
    return ExitCode.PASSED


def print_estimates(cal: Calibration | SessionCalibration,
                    info: Callable[[str], Information] | None = None) -> list[str]:
    """Print the estimates, probabilities and predictive check of a calibration (with each
    parameter's spread over the prior's when ``info`` gives it); return the summaries the
    check found inconsistent."""
    print(f"{'parameter':20s} {'median':>9s} {'90 % interval':>22s}"
          + (f" {'spread/prior':>12s}" if info else ""))

    def flag(name: str) -> str:
        return "" if info is None or info(name).informed else "  (prior)"

    for e in cal.estimates:
        ratio = f" {info(e.name).ratio:12.2f}" if info else ""
        print(f"{e.name:20s} {e.median:9.3g} {e.low90:10.3g} - {e.high90:9.3g}{ratio}"
              f"{flag(e.name)}")
    for name, p in cal.probabilities.items():
        print(f"P({name}) = {p:.3f}{flag(name)}")
    odd = [c.name for c in cal.checks if not c.consistent]
    print(f"posterior predictive check: {len(cal.checks) - len(odd)}/{len(cal.checks)} "
          "summaries within the central 98 % of the predictions"
          + (f" (not: {', '.join(odd)})" if odd else ""))
    return odd
