"""In-silico cohorts: one virtual patient in closed loop with the reference pacemaker
(:func:`simulate_patient`), the unit that populations and trials repeat."""

from devicetwin.cohort.simulate import (
    HEARTS,
    CohortError,
    PatientRun,
    activity_epochs,
    simulate_patient,
)

__all__ = ["HEARTS", "CohortError", "PatientRun", "activity_epochs", "simulate_patient"]
