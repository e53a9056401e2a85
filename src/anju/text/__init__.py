"""Chinese text intelligence: normalise, segment, count and compare terms, classify, extract, mask, audit.

Modules: :mod:`~anju.text.normalize`, :mod:`~anju.text.segment`, :mod:`~anju.text.terms`,
:mod:`~anju.text.extract`, :mod:`~anju.text.mask`, :mod:`~anju.text.features`, :mod:`~anju.text.classify`,
:mod:`~anju.text.models`, :mod:`~anju.text.corpora`, :mod:`~anju.text.audit`. See docs/text.md.
"""
