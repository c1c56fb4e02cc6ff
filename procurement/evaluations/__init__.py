"""Multi-source evaluations (多元评估): indicator sets, periods, score sheets by source, the
residents' satisfaction survey, and the composite score that drives payment and renewal."""
