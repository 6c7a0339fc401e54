"""Batch extraction: many files in, one durable results.jsonl and spreadsheet exports out."""
