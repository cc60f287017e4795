"""AWS list prices, us-east-1, in USD: the only place the bench takes a price from.

Each price names the public pricing page it comes from and when it was read there.
They were taken from the pricing pages as published at `as_of` (recorded from those
pages, not fetched by the bench); re-check them when AWS announces a change.
"""
from __future__ import annotations

from dataclasses import dataclass

REGION = "us-east-1"


@dataclass(frozen=True)
class Price:
    usd: float          # per `unit`
    unit: str
    source: str
    as_of: str
    note: str = ""


PRICES: dict[str, Price] = {
    "stepfunctions_standard_transition": Price(
        0.025 / 1000, "state transition (Standard workflow)",
        "https://aws.amazon.com/step-functions/pricing/", "2025-01",
        "$0.025 per 1,000 state transitions; 4,000 free per month ignored"),
    "lambda_arm64_gb_second": Price(
        0.0000133334, "GB-second (arm64, first 7.5 billion GB-s/month)",
        "https://aws.amazon.com/lambda/pricing/", "2025-01"),
    "lambda_request": Price(
        0.20 / 1_000_000, "request", "https://aws.amazon.com/lambda/pricing/", "2025-01",
        "$0.20 per 1M requests"),
    "dynamodb_write_request_unit": Price(
        0.625 / 1_000_000, "write request unit (on-demand)",
        "https://aws.amazon.com/dynamodb/pricing/on-demand/", "2025-01",
        "$0.625 per million WRU since the November 2024 on-demand price cut"),
    "dynamodb_read_request_unit": Price(
        0.125 / 1_000_000, "read request unit (on-demand)",
        "https://aws.amazon.com/dynamodb/pricing/on-demand/", "2025-01",
        "$0.125 per million RRU since the November 2024 on-demand price cut"),
    "ses_email": Price(
        0.10 / 1000, "email sent (outbound)", "https://aws.amazon.com/ses/pricing/", "2025-01",
        "$0.10 per 1,000 emails; no free tier assumed"),
    "sns_publish": Price(
        0.50 / 1_000_000, "publish request (standard topic, per 64 KB chunk)",
        "https://aws.amazon.com/sns/pricing/", "2025-01",
        "deliveries to SQS/Lambda subscribers are free; HTTP deliveries ($0.60/M) depend on the store's subscriptions"),
    "sns_sms": Price(
        0.00581, "SMS to France (transactional, indicative)", "https://aws.amazon.com/sns/sms-pricing/", "2025-01",
        "EXCLUDED from the total: depends on country and carrier"),
    "s3_put": Price(
        0.005 / 1000, "PUT, COPY, POST or LIST request (S3 Standard)",
        "https://aws.amazon.com/s3/pricing/", "2025-01"),
    "s3_get": Price(
        0.0004 / 1000, "GET, SELECT and other request (S3 Standard)",
        "https://aws.amazon.com/s3/pricing/", "2025-01"),
    "s3_storage_gb_month": Price(
        0.023, "GB-month (S3 Standard, first 50 TB)", "https://aws.amazon.com/s3/pricing/", "2025-01",
        "labels live 400 days (template lifecycle rule)"),
    "apigateway_rest_request": Price(
        3.50 / 1_000_000, "REST API request (first 333 million/month)",
        "https://aws.amazon.com/api-gateway/pricing/", "2025-01"),
    "secretsmanager_api_call": Price(
        0.05 / 10_000, "API call", "https://aws.amazon.com/secrets-manager/pricing/", "2025-01",
        "the $0.40 per secret-month is a fixed cost, not per return"),
}

LABEL_RETENTION_MONTHS = 400 / 30.4


def usd(key: str, quantity: float) -> float:
    return PRICES[key].usd * quantity
