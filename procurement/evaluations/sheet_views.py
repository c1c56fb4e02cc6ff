"""Score sheets: filling in, submitting and reviewing one source's evaluation, evidence files, indicator sets."""
from flask import Blueprint

bp = Blueprint("sheets", __name__, url_prefix="/evaluations/sheets")
