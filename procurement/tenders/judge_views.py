"""Placeholder blueprint; filled in by its owner."""
from flask import Blueprint

bp = Blueprint("judging", __name__, url_prefix="/judging")
