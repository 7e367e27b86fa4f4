"""KYC onboarding, pure domain: applications, document (MRZ) checks, sanctions/PEP screening,
country risk, decisions and re-screening. No Flask, SQL or network here; ``today`` and list
data are parameters.

Modules: ``application`` (intake parsing, JSON Schema), ``mrz`` (ICAO 9303), ``names``
(normalisation for screening), ``screening`` (watchlist model, index, scoring), ``watchlists``
(OpenSanctions CSV and UN SC XML importers), ``checks`` (named check functions, FATF lists),
``decision`` (decision rule, KYC levels, re-screening), ``countries`` (ISO 3166 / ICAO codes).

Typical flow (the HTTP layer does the I/O around it)::

    application = parse_application(body, today=today)
    results = run_checks(application, today=today, watchlist=index, fatf=load_fatf_lists())
    decision = decide(results)
"""

from kyc.application import APPLICATION_SCHEMA, Application, parse_application
from kyc.checks import CheckResult, KycPolicy, load_fatf_lists, run_checks
from kyc.decision import Decision, DecisionOutcome, KycLevel, decide, rescreen
from kyc.screening import ScreeningResult, ScreeningSubject, WatchlistEntry, WatchlistIndex

__all__ = [
    "APPLICATION_SCHEMA",
    "Application",
    "CheckResult",
    "Decision",
    "DecisionOutcome",
    "KycLevel",
    "KycPolicy",
    "ScreeningResult",
    "ScreeningSubject",
    "WatchlistEntry",
    "WatchlistIndex",
    "decide",
    "load_fatf_lists",
    "parse_application",
    "rescreen",
    "run_checks",
]
