"""The shared logger, tracer and metrics, configured by the POWERTOOLS_* variables of template.yaml's Globals."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
