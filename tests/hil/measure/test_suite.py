"""The measurement suite on the simulated bench: a correct device passes within the spec's
tolerances; each measurement fails on a deliberately wrong device.

The simulated bench runs the reference model, which has no seeded faults, so a "wrong device"
here is a device programmed differently from the programming the suite expects (said per test).
"""

from __future__ import annotations

import pytest

from devicetwin.conformance import judge
from devicetwin.pacemaker import BatteryState, Mode, Programming
from hil.measure.simbench import SimBench, programming_from_wire
from hil.measure.suite import (
    SuiteSettings,
    asynchronous_test,
    demand_test,
    escape_interval,
    magnet_rate,
    pacing_output,
    probe_inhibits,
    refractory_period,
    run_suite,
    sensitivity,
    setup_bench,
)

VVI = Programming(mode=Mode.VVI, lower_rate_ppm=100)
AAI = Programming(mode=Mode.AAI, lower_rate_ppm=90, arp_ms=300)
CFG = SuiteSettings()


def _bench(device: Programming, **kw: object) -> SimBench:
    bench = SimBench(device, **kw)  # type: ignore[arg-type]
    setup_bench(bench, CFG)
    return bench


def _values(ms: list) -> dict[str, float | None]:  # type: ignore[type-arg]
    return {m.name: m.value for m in ms}


def test_vvi_suite_passes_and_matches_the_programming() -> None:
    ms = run_suite(SimBench(VVI), VVI)
    verdicts = [judge(m) for m in ms]
    assert all(v.passed for v in verdicts), [v.sentence for v in verdicts if not v.passed]
    val = _values(ms)
    assert val["ventricular.pacing_interval_ms"] == pytest.approx(600.0, abs=0.1)
    assert val["ventricular.pulse_amplitude_v"] == pytest.approx(3.5, rel=0.02)
    assert val["ventricular.pulse_width_ms"] == pytest.approx(0.4, abs=0.02)
    # the triangle is detected from 32/31 of the sensitivity (2.5 mV -> 2.58 mV); the
    # bisection over [1.25, 3.75] mV in 6 steps resolves 2.5 / 64 = 0.039 mV above it.
    for tag in ("positive", "negative"):
        thr = val[f"ventricular.sensitivity_{tag}_mv"]
        assert thr is not None and 2.5 * 32 / 31 <= thr <= 2.5 * 32 / 31 + 0.04
    # The probe is detected 1 ms after its onset: the shortest inhibiting onset is VRP - 1 ms,
    # to the 2 ms resolution.
    for kind in ("paced", "sensed"):
        vrp = val[f"ventricular.{kind}_refractory_vrp_ms"]
        assert vrp is not None and 317.0 <= vrp <= 322.0
    assert val["ventricular.escape_interval_ms"] == pytest.approx(601.0, abs=1.0)
    assert val["demand.overdrive_paces"] == 0
    assert val["magnet.rate_ppm"] == pytest.approx(100.0, rel=1e-3)


def test_aai_refractory_and_sensitivity_on_the_atrial_channel() -> None:
    bench = _bench(AAI)
    ms = refractory_period(bench, AAI, after_pace=True, settings=CFG) + sensitivity(bench, AAI)
    val = _values(ms)
    arp = val["atrial.paced_refractory_arp_ms"]
    assert arp is not None and 297.0 <= arp <= 302.0
    thr = val["atrial.sensitivity_positive_mv"]
    assert thr is not None and 0.75 * 32 / 31 <= thr <= 0.75 * 32 / 31 + 0.012
    assert all(judge(m).passed for m in ms)


def test_ddd_av_interval_and_both_outputs() -> None:
    prog = Programming(mode=Mode.DDD, lower_rate_ppm=80, fixed_av_delay_ms=180,
                       atrial_amplitude_v=2.5, atrial_pulse_width_ms=0.5)
    ms = pacing_output(_bench(prog), prog)
    val = _values(ms)
    assert val["av.paced_av_interval_ms"] == pytest.approx(180.0, abs=0.1)
    assert val["atrial.pulse_amplitude_v"] == pytest.approx(2.5, rel=0.02)
    assert val["atrial.pulse_width_ms"] == pytest.approx(0.5, abs=0.02)
    assert all(judge(m).passed for m in ms)


def _failed(ms: list, name: str) -> bool:  # type: ignore[type-arg]
    return not next(judge(m) for m in ms if m.name == name).passed


@pytest.mark.parametrize(("device", "name"), [
    (VVI.replace(lower_rate_ppm=90), "ventricular.pacing_interval_ms"),
    (VVI.replace(ventricular_amplitude_v=2.5), "ventricular.pulse_amplitude_v"),
    (VVI.replace(ventricular_pulse_width_ms=1.0), "ventricular.pulse_width_ms"),
])
def test_pacing_output_detects_a_wrong_device(device: Programming, name: str) -> None:
    assert _failed(pacing_output(_bench(device), VVI), name)


def test_wrong_av_delay_is_detected() -> None:
    prog = Programming(mode=Mode.DDD, lower_rate_ppm=80)
    assert _failed(pacing_output(_bench(prog.replace(fixed_av_delay_ms=170)), prog),
                   "av.paced_av_interval_ms")


def test_wrong_refractory_is_detected() -> None:
    # Device VRP 250 ms where 320 ms is expected (the REFRACTORY_SENSE_INHIBITS firmware is only
    # reachable through the emulated bench).
    bench = _bench(VVI.replace(vrp_ms=250))
    assert _failed(refractory_period(bench, VVI, after_pace=True),
                   "ventricular.paced_refractory_vrp_ms")
    assert _failed(refractory_period(bench, VVI, after_pace=False),
                   "ventricular.sensed_refractory_vrp_ms")


def test_wrong_sensitivity_is_detected() -> None:
    ms = sensitivity(_bench(VVI.replace(ventricular_sensitivity_mv=3.5)), VVI)
    assert _failed(ms, "ventricular.sensitivity_positive_mv")
    assert _failed(ms, "ventricular.sensitivity_negative_mv")


def test_escape_not_reset_by_the_sense_is_detected() -> None:
    # Hysteresis at 70 ppm: the escape after a sense is 857 ms, not the 600 ms LRI expected.
    ms = escape_interval(_bench(VVI.replace(hysteresis_rate_ppm=70)), VVI)
    assert _failed(ms, "ventricular.escape_interval_ms")


def test_demand_and_asynchronous_detect_the_wrong_mode() -> None:
    # A device left in VOO is not inhibited by the overdrive train.
    assert _failed(demand_test(_bench(VVI.replace(mode=Mode.VOO)), VVI),
                   "demand.overdrive_paces")
    # A device that stays in VVI (not switched to VOO) is inhibited by it.
    ms = asynchronous_test(_bench(VVI), VVI, reprogram=False)
    assert _failed(ms, "asynchronous.pacing_interval_ms")
    assert all(judge(m).passed for m in asynchronous_test(_bench(VVI), VVI))


def test_magnet_rate_near_replacement_is_detected() -> None:
    ms = magnet_rate(_bench(VVI, battery=BatteryState.ERN), VVI)
    assert ms[0].value == pytest.approx(90.0, rel=1e-3)
    assert _failed(ms, "magnet.rate_ppm")


def test_wire_programming_round_trips() -> None:
    prog = VVI.replace(ventricular_sensitivity_mv=3.5, hysteresis_rate_ppm=70)
    assert programming_from_wire(prog.to_wire_units()) == prog


@pytest.mark.parametrize("phase_ms", [0, 97, 211, 263, 331])
def test_sync_pulses_work_from_any_phase_of_the_pacing_cycle(phase_ms: int) -> None:
    # LRI 400 ms, VRP 250 ms: the tightest sync gap. Whatever the device's phase when the AWG
    # starts, the escape is one LRI (+1 ms detection) after the last sync pulse and the probes
    # 15 ms either side of the VRP land where intended.
    prog = Programming(mode=Mode.VVI, lower_rate_ppm=150, upper_rate_ppm=150, vrp_ms=250)
    bench = _bench(prog)
    bench.advance_s(phase_ms / 1000)
    assert escape_interval(bench, prog)[0].value == pytest.approx(401.0, abs=1.0)
    after_pace = probe_inhibits(bench, prog, 2, 235.0, True, CFG)
    # The pace comes 1 ms later than designed (the sync pulse is detected on its rise), so the
    # measured delay is 234 ms.
    assert after_pace is not None and after_pace[0] is False
    assert after_pace[1] == pytest.approx(234.0, abs=0.1)
    inside = probe_inhibits(bench, prog, 2, 265.0, False, CFG)
    assert inside is not None and inside[0] is True
