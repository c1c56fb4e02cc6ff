"""Residents' satisfaction surveys: the street office's pages (tokens, QR sheet, results) and the residents' public answer page."""
from flask import Blueprint

bp = Blueprint("surveys", __name__, url_prefix="/surveys")
