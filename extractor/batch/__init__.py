"""Batch extraction: many files in, one durable results.jsonl and spreadsheet exports out.

``nianbao batch INPUT... --out DIR [--engine E] [-j N] [--resume] [--retry-failed] [--model M]``

results.jsonl holds one JSON object per line, one line per input file, appended (flush + fsync) the
moment the file is done:

- the canonical report (``agency``, ``year``, ``template``, ``active_disclosure``, ``applications``,
  ``review_litigation``; all null for a file that was not read) with ``findings``, ``evidence`` and
  ``meta`` as ``ExtractionResult.to_dict()`` gives them;
- ``source_path`` (absolute), ``source_sha256`` (of the file's bytes), ``status`` (``ok``,
  ``not_a_report``, ``failed`` or ``duplicate``), ``error`` (one line, Chinese first), ``error_type``,
  ``retryable``, ``settings`` (engine, model, prompt version; model and prompt version are null for
  the template engine, which uses neither) and ``settings_key`` (their hash), ``counts`` (findings,
  errors, report_errors, extraction_doubts) and ``finished_at``.

Duplicates: a file whose bytes equal a file already read with the same settings is not read again.
It gets its own short line with ``status: "duplicate"`` and ``duplicate_of`` (the path of the line
that holds the report) and no report fields. The exports fold such paths into the twin's row
(column 重复路径 [duplicate_paths]).

``--resume`` skips every path whose line has the same content hash and settings key and is settled
(ok, not_a_report, duplicate, or a failure that is not ``retryable``; ``--retry-failed`` redoes all
failures). A redone file gets a second line; readers (the exports, the summary) take the last line of
each path. The exports are rebuilt from the whole file after every run, sorted by path, without
timings, so an interrupted-and-resumed batch exports byte-identical CSVs to an uninterrupted one.
"""
