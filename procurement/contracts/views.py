"""Placeholder blueprint; filled in by its owner."""
from flask import Blueprint

bp = Blueprint("contracts", __name__, url_prefix="/contracts")
