"""Export jobs: their states, the queue (a table with leases) and the runners."""
