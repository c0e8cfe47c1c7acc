"""Population runs: many households at once, in and out of JSON Lines and Parquet.

:func:`~eligibility.batch.pipeline.run_file` evaluates a file (what ``eligibility
batch`` runs), :func:`~eligibility.batch.diff.diff_outputs` compares two outputs,
:func:`~eligibility.batch.generate.generate` draws synthetic households and
:func:`~eligibility.batch.dask.evaluate_dataframe` maps the evaluation over a Dask
DataFrame. The output contract is in :mod:`eligibility.batch.run` and docs/batch.md.
Needs the ``batch`` extra (polars, pyarrow; dask and distributed for Dask).
"""
