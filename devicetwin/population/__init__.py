"""Virtual populations: parameter distributions per pacing indication, sampled by seed.

A population file (TOML, :mod:`devicetwin.population.reader`) lists indications, each a
condition preset with distributions of the parameters that vary, every number with its published
source; :func:`sample_patients` draws patients reproducibly (:mod:`devicetwin.population.sampling`).
Pure computation: writing patients to files is the bench's job (``devicetwin population sample``).
"""

from devicetwin.population.distributions import (
    Bernoulli,
    Choice,
    Constant,
    Distribution,
    LogNormal,
    Normal,
    Uniform,
)
from devicetwin.population.errors import PopulationError
from devicetwin.population.model import (
    SCALAR_FIELDS,
    Correlation,
    Indication,
    Parameter,
    Population,
)
from devicetwin.population.reader import load_population, population_from_mapping
from devicetwin.population.sampling import ID_COLUMNS, Patient, patient_from_row, sample_patients

__all__ = [
    "ID_COLUMNS",
    "SCALAR_FIELDS",
    "Bernoulli",
    "Choice",
    "Constant",
    "Correlation",
    "Distribution",
    "Indication",
    "LogNormal",
    "Normal",
    "Parameter",
    "Patient",
    "Population",
    "PopulationError",
    "Uniform",
    "load_population",
    "patient_from_row",
    "population_from_mapping",
    "sample_patients",
]
