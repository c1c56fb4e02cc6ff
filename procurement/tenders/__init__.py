"""Tendering: from the tender documents through sealed bids and scoring to the award."""
