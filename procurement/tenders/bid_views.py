"""Placeholder blueprint; filled in by its owner."""
from flask import Blueprint

bp = Blueprint("bidding", __name__, url_prefix="/bidding")
