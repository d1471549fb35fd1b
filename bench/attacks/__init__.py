"""``make attack`` (``python -m bench.attacks.run``): issue 12's resource attacks on a fresh
``mock-bedrock serve`` each, one module per family (http2, http1, journal, faults, png,
record_replay), measured by :mod:`.harness`; the requests a web page could send are
checked apart (:mod:`.browser`)."""
