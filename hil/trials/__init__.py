"""In-silico trials: a population, arms of device x programming, every patient in every arm.

A trial file (:mod:`hil.trials.spec`) names a population (:mod:`devicetwin.population`), the
arms and the endpoints (outcome measures); :func:`hil.trials.runner.run_trial` runs it on the
executor (:mod:`hil.executor`), writing per-patient results as they arrive
(:mod:`hil.trials.store`), then the summary with bootstrap intervals
(:mod:`hil.trials.summary`) and the HTML report (:mod:`hil.trials.report`). Reference trials and
populations live in ``library/``.
"""
