"""The customer service domain: work orders with routing and SLAs, complaints, live queues."""
