"""Evaluations per agreement and community: scores by source and dimension over the periods, what is missing and who must act, finalising, the report PDF and Excel."""
from flask import Blueprint

bp = Blueprint("evaluations", __name__, url_prefix="/evaluations")
