"""fc_check: the claim-checking layer (statistics with stated error rates, regimes, verdicts,
reports and the pytest plugin), kept apart from the model package ``fc_model``."""
