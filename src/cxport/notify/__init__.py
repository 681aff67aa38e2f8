"""Telling a requester that an export ended: in-app (a row), e-mail over SMTP, and a
signed webhook. E-mails and webhooks go through an outbox (`cx_deliveries`),
written in the transaction that ends the job and sent by `Dispatcher` with
retries and backoff; a notifier that fails never fails the export."""
