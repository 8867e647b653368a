"""Batches from request to result: parse and submit a request, in submission order; undo, cancel
and apply a preview; the views the API and pages show; the change log. How a batch runs is
`batches.pipeline`."""
