"""How a batch runs: plan its targets into numbered chunks, apply (or undo) each chunk with
set-based SQL, finalize the counts, and sweep up lost work. Each step runs in its caller's
transaction and returns the messages to send once that transaction has committed."""
