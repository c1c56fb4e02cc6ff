"""Four-party contracts: cooperation, annual agreements, sub-contracts, signatures, amendments
and special-service agreements."""
