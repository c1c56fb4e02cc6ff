"""The service task list per agreement and community, and its completion."""
from flask import Blueprint

bp = Blueprint("work", __name__, url_prefix="/work")
