"""Standard Webhooks: endpoints, the transactional outbox, signing and the delivery worker."""
