"""Placeholder blueprint; filled in by its owner."""
from flask import Blueprint

bp = Blueprint("tenders", __name__, url_prefix="/tenders")
