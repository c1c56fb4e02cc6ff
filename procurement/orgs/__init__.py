"""Organisations: street offices and their communities, residents' committees, grids,
universities, agencies and other government bodies."""
