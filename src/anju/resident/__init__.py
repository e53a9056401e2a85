"""Resident services: QR door plates, reports routed to the responsible department (立码办), work orders with
12345 time limits, mediation referral, and safe houses (安全屋) with their siting.

The modules here are pure domain logic (no database, no HTTP): :mod:`rules` (TOML configuration), :mod:`calendar`
(working days), :mod:`orders` (the work-order state machine), :mod:`plates` (codes, QR, PDF sheets, import),
:mod:`routing` (matter classifier + rules), :mod:`abuse` and :mod:`photos` (public-input hygiene),
:mod:`mediation`, :mod:`siting` (maximal covering location) and :mod:`metrics`.
"""
