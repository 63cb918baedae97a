"""Reports: console summary, JUnit XML, and the self-contained HTML report."""
